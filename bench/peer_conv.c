/* peer_conv.c - turns kxmatch JSON Lines records into the input of the
 * peers the bench compares with: scriptindex's "field=value" dump format,
 * with the same fields kxmatch indexes and code ancestors spelled out. */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Ancestors by code shape, as kxmatch's taxonomy gives them: industry
 * 2614 -> 261 -> 26; discipline B060101 -> B0601 -> B06; region
 * 371602001 -> 371602 -> 371600 -> 370000. (Industry sections need the
 * table; the peers go without them.) */
static void ancestors(FILE *out, const char *field, const char *code)
{
    size_t n = strlen(code);
    char buf[16];

    if (n >= sizeof buf)
        return;
    fprintf(out, "%s=%s\n", field, code);
    if (!strcmp(field, "industries")) {
        for (size_t k = n - 1; k >= 2 && code[0] >= '0' && code[0] <= '9'; k--)
            fprintf(out, "%s=%.*s\n", field, (int)k, code);
    } else if (!strcmp(field, "disciplines")) {
        for (size_t k = n; k > 3; k -= 2)
            fprintf(out, "%s=%.*s\n", field, (int)(k - 2), code);
    } else if (!strcmp(field, "region")) {
        if (n == 9)
            fprintf(out, "%s=%.6s\n", field, code);
        memcpy(buf, code, 6);
        buf[6] = '\0';
        if (strcmp(buf + 4, "00") != 0) {
            memcpy(buf + 4, "00", 3);
            fprintf(out, "%s=%s\n", field, buf);
        }
        if (strcmp(buf + 2, "0000") != 0) {
            memcpy(buf + 2, "0000", 5);
            fprintf(out, "%s=%s\n", field, buf);
        }
    }
}

/* A value on one line: scriptindex continues a value on lines that start
 * with '='; none of our values has a newline, but be safe. */
static void value(FILE *out, const char *field, const char *v)
{
    fprintf(out, "%s=", field);
    for (; *v; v++) {
        if (*v == '\n')
            fputs("\n=", out);
        else
            fputc(*v, out);
    }
    fputc('\n', out);
}

static void convert(FILE *out, json_object *o)
{
    static const char *const text_fields[] = {"name", "org", "title", "text",
                                              NULL};
    static const char *const list_fields[] = {"tags", "roles", NULL};
    static const char *const code_fields[] = {"industries", "disciplines",
                                              NULL};
    json_object *kind, *id, *v;

    if (!json_object_object_get_ex(o, "kind", &kind) ||
        !json_object_object_get_ex(o, "id", &id))
        return;
    fprintf(out, "id=%s:%s\n", json_object_get_string(kind),
            json_object_get_string(id));
    fprintf(out, "kind=%s\n", json_object_get_string(kind));
    for (int i = 0; text_fields[i]; i++)
        if (json_object_object_get_ex(o, text_fields[i], &v) &&
            json_object_is_type(v, json_type_string))
            value(out, text_fields[i], json_object_get_string(v));
    for (int i = 0; list_fields[i]; i++)
        if (json_object_object_get_ex(o, list_fields[i], &v) &&
            json_object_is_type(v, json_type_array))
            for (size_t k = 0; k < json_object_array_length(v); k++)
                value(out, list_fields[i],
                      json_object_get_string(json_object_array_get_idx(v, k)));
    for (int i = 0; code_fields[i]; i++)
        if (json_object_object_get_ex(o, code_fields[i], &v) &&
            json_object_is_type(v, json_type_array))
            for (size_t k = 0; k < json_object_array_length(v); k++) {
                json_object *e = json_object_array_get_idx(v, k);

                ancestors(out, code_fields[i], json_object_get_string(e));
            }
    if (json_object_object_get_ex(o, "region", &v))
        ancestors(out, "region", json_object_get_string(v));
    fputc('\n', out);
}

int main(int argc, char **argv)
{
    char *line = NULL;
    size_t cap = 0;
    long n = 0;

    if (argc < 2) {
        fprintf(stderr, "usage: peer_conv FILE.jsonl... > dump.txt\n");
        return 2;
    }
    for (int a = 1; a < argc; a++) {
        FILE *f = fopen(argv[a], "r");

        if (!f) {
            perror(argv[a]);
            return 1;
        }
        while (getline(&line, &cap, f) > 0) {
            json_object *o = json_tokener_parse(line);

            if (o) {
                convert(stdout, o);
                n++;
            }
            json_object_put(o);
        }
        fclose(f);
    }
    free(line);
    fprintf(stderr, "peer_conv: %ld records\n", n);
    return 0;
}
