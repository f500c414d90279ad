/* main.c — command dispatch. With tui/, the only code that prints errors or exits. */
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "--version") == 0) {
        puts("quantlab 0.1.0");
        return 0;
    }
    fputs("quantlab: not built yet\n", stderr);
    return 1;
}
