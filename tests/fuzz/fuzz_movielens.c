/* fuzz_movielens.c: the MovieLens loader (datasets/movielens.c: the two side
 * tables, then the ratings through ds_build.c). Input: a flag byte (fuzz.h;
 * bit 6: the 1M format, bit 7: path names the ratings file, not the folder),
 * then the ratings, users and items files, separated by a 0x1e byte (ASCII
 * record separator); missing parts are empty files. FZ_CUT cuts the users
 * file only: a side table read in part must fail the load as the ratings do. */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

enum { ML_1M = 64, ML_FILE_PATH = 128 };

int fuzz_movielens(const uint8_t *data, size_t size) {
    unsigned flags = size ? data[0] : 0;
    const char *v1m[3] = {"ml-1m/ratings.dat", "ml-1m/users.dat", "ml-1m/movies.dat"};
    const char *v100k[3] = {"ml-100k/u.data", "ml-100k/u.user", "ml-100k/u.item"};
    const char *const *names = flags & ML_1M ? v1m : v100k;
    char dir[FZ_PATH], path[3][FZ_PATH];
    snprintf(dir, sizeof dir, "%s/%s", fz_dir(), flags & ML_1M ? "ml-1m" : "ml-100k");
    mkdir(dir, 0777);
    const uint8_t *p = data + !!size, *end = data + size;
    for (int i = 0; i < 3; i++) {
        const uint8_t *sep = i < 2 ? memchr(p, 0x1e, (size_t)(end - p)) : NULL;
        const uint8_t *e = sep ? sep : end;
        if (fz_write(names[i], p, (size_t)(e - p), flags & FZ_GZIP, i == 1 && (flags & FZ_CUT), path[i])) return 0;
        p = sep ? sep + 1 : end;
    }
    fz_load("movielens", flags & ML_FILE_PATH ? path[0] : dir, NULL, flags, NULL);
    return 0;
}
