/* runstat.c - runs a command and reports what it cost: wall time, CPU time
 * and peak RSS (from wait4), as /usr/bin/time -v would, on one line:
 *   runstat [-o FILE] -- CMD ARGS...
 * prints "wall_s=... user_s=... sys_s=... maxrss_kb=... rc=..." to stderr
 * or appends it to FILE, and exits with the command's status. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    struct timespec t0, t1;
    struct rusage ru;
    const char *outpath = NULL;
    FILE *out = stderr;
    int i = 1, status = 0, rc;
    pid_t pid;

    if (i + 1 < argc && !strcmp(argv[i], "-o")) {
        outpath = argv[i + 1];
        i += 2;
    }
    if (i < argc && !strcmp(argv[i], "--"))
        i++;
    if (i >= argc) {
        fprintf(stderr, "usage: runstat [-o FILE] -- CMD ARGS...\n");
        return 2;
    }
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pid = fork();
    if (pid < 0) {
        perror("fork");
        return 2;
    }
    if (pid == 0) {
        execvp(argv[i], argv + i);
        perror(argv[i]);
        _exit(127);
    }
    if (wait4(pid, &status, 0, &ru) < 0) {
        perror("wait4");
        return 2;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (outpath && !(out = fopen(outpath, "a"))) {
        perror(outpath);
        out = stderr;
    }
    fprintf(out, "wall_s=%.3f user_s=%.3f sys_s=%.3f maxrss_kb=%ld rc=%d\n",
            (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9,
            ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6,
            ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6, ru.ru_maxrss, rc);
    if (out != stderr)
        fclose(out);
    return rc;
}
