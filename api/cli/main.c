/* main.c - the kxmatch executable. */
#include "cli.h"

int main(int argc, char **argv)
{
    return api_cli_main(argc, argv);
}
