/* cmdlat.c - latency of a command line tool, one process per request, as a
 * user at a shell sees it:
 *   cmdlat [-n MAX] [--hit REGEX] QUERIES.txt -- CMD ARGS... {} ARGS...
 * runs CMD once per line of QUERIES.txt with {} replaced by the line (no
 * shell involved), and prints "n=... p50_ms=... p99_ms=... mean_ms=...
 * fails=... zero=...": fails counts non-zero exits, zero counts runs whose
 * output has no line matching REGEX (when given). */
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

/* Runs argv with its stdout read back; returns the exit status and
 * whether a line matched re. */
static int run(char **argv, regex_t *re, int *hit)
{
    int fd[2], status;
    pid_t pid;
    FILE *f;
    char *line = NULL;
    size_t cap = 0;

    *hit = 0;
    if (pipe(fd) != 0)
        return -1;
    pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        dup2(fd[1], 1);
        close(fd[0]);
        close(fd[1]);
        if (!freopen("/dev/null", "w", stderr))
            _exit(126);
        execvp(argv[0], argv);
        _exit(127);
    }
    close(fd[1]);
    f = fdopen(fd[0], "r");
    while (getline(&line, &cap, f) > 0)
        if (re && !*hit && regexec(re, line, 0, NULL, 0) == 0)
            *hit = 1;
    free(line);
    fclose(f);
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

int main(int argc, char **argv)
{
    regex_t re, *rep = NULL;
    long max = 1000000, n = 0, fails = 0, zero = 0;
    const char *qfile = NULL;
    double *lat = NULL, sum = 0;
    char *line = NULL, **cmd;
    size_t cap = 0;
    int i = 1, c0;
    FILE *q;

    while (i < argc && strcmp(argv[i], "--") != 0) {
        if (!strcmp(argv[i], "-n") && i + 1 < argc) {
            max = atol(argv[i + 1]);
            i += 2;
        } else if (!strcmp(argv[i], "--hit") && i + 1 < argc) {
            if (regcomp(&re, argv[i + 1], REG_EXTENDED | REG_NOSUB) != 0) {
                fprintf(stderr, "cmdlat: bad regex %s\n", argv[i + 1]);
                return 2;
            }
            rep = &re;
            i += 2;
        } else {
            qfile = argv[i++];
        }
    }
    if (!qfile || i + 1 >= argc) {
        fprintf(stderr, "usage: cmdlat [-n MAX] [--hit REGEX] QUERIES.txt -- "
                        "CMD ARGS... {} ...\n");
        return 2;
    }
    c0 = i + 1;
    cmd = calloc((size_t)(argc - c0 + 1), sizeof *cmd);
    if (!(q = fopen(qfile, "r"))) {
        perror(qfile);
        return 2;
    }
    while (n < max && getline(&line, &cap, q) > 0) {
        double t0;
        int hit, rc;

        line[strcspn(line, "\n")] = '\0';
        for (int k = c0; k < argc; k++)
            cmd[k - c0] = strcmp(argv[k], "{}") ? argv[k] : line;
        lat = realloc(lat, (size_t)(n + 1) * sizeof *lat);
        t0 = now_ms();
        rc = run(cmd, rep, &hit);
        lat[n] = now_ms() - t0;
        sum += lat[n];
        fails += rc != 0;
        zero += rc == 0 && rep && !hit;
        n++;
    }
    fclose(q);
    if (!n) {
        fprintf(stderr, "cmdlat: no queries in %s\n", qfile);
        return 2;
    }
    qsort(lat, (size_t)n, sizeof *lat, cmp_double);
    printf("n=%ld p50_ms=%.3f p99_ms=%.3f mean_ms=%.3f fails=%ld zero=%ld\n",
           n, lat[n / 2], lat[(size_t)(n * 0.99)], sum / n, fails, zero);
    free(lat);
    free(line);
    free(cmd);
    return 0;
}
