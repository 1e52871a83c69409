/* db_vfs.c: the results database's VFS, a pass-through over SQLite's default
 * one whose writes, syncs and truncations ask hx_io_fails() first, so the
 * tests can fail each write of the database in turn (harness/core/util.h).
 * With fault injection off that is one relaxed atomic load per call. It is
 * registered once, under its own name, and only db_open uses it. */
#include <pthread.h>
#include <sqlite3.h>
#include <string.h>

#include "db.h"

typedef struct shim_file {
    sqlite3_file        base;
    sqlite3_file       *real; /* follows this struct in the same allocation */
} shim_file;

static sqlite3_vfs g_vfs, *g_real;
static sqlite3_io_methods g_methods_v1, g_methods_v2, g_methods_v3;

#define REAL(f) (((shim_file *)(void *)(f))->real)

static int x_close(sqlite3_file *f) { return REAL(f)->pMethods->xClose(REAL(f)); }
static int x_read(sqlite3_file *f, void *p, int n, sqlite3_int64 off) {
    return REAL(f)->pMethods->xRead(REAL(f), p, n, off);
}
static int x_write(sqlite3_file *f, const void *p, int n, sqlite3_int64 off) {
    return hx_io_fails() ? SQLITE_IOERR_WRITE : REAL(f)->pMethods->xWrite(REAL(f), p, n, off);
}
static int x_truncate(sqlite3_file *f, sqlite3_int64 size) {
    return hx_io_fails() ? SQLITE_IOERR_TRUNCATE : REAL(f)->pMethods->xTruncate(REAL(f), size);
}
static int x_sync(sqlite3_file *f, int flags) {
    return hx_io_fails() ? SQLITE_IOERR_FSYNC : REAL(f)->pMethods->xSync(REAL(f), flags);
}
static int x_size(sqlite3_file *f, sqlite3_int64 *size) { return REAL(f)->pMethods->xFileSize(REAL(f), size); }
static int x_lock(sqlite3_file *f, int l) { return REAL(f)->pMethods->xLock(REAL(f), l); }
static int x_unlock(sqlite3_file *f, int l) { return REAL(f)->pMethods->xUnlock(REAL(f), l); }
static int x_check(sqlite3_file *f, int *out) { return REAL(f)->pMethods->xCheckReservedLock(REAL(f), out); }
static int x_fcntl(sqlite3_file *f, int op, void *arg) { return REAL(f)->pMethods->xFileControl(REAL(f), op, arg); }
static int x_sector(sqlite3_file *f) { return REAL(f)->pMethods->xSectorSize(REAL(f)); }
static int x_caps(sqlite3_file *f) { return REAL(f)->pMethods->xDeviceCharacteristics(REAL(f)); }
static int x_shm_map(sqlite3_file *f, int pg, int sz, int extend, void volatile **out) {
    return REAL(f)->pMethods->xShmMap(REAL(f), pg, sz, extend, out);
}
static int x_shm_lock(sqlite3_file *f, int off, int n, int flags) {
    return REAL(f)->pMethods->xShmLock(REAL(f), off, n, flags);
}
static void x_shm_barrier(sqlite3_file *f) { REAL(f)->pMethods->xShmBarrier(REAL(f)); }
static int x_shm_unmap(sqlite3_file *f, int del) { return REAL(f)->pMethods->xShmUnmap(REAL(f), del); }
static int x_fetch(sqlite3_file *f, sqlite3_int64 off, int n, void **out) {
    return REAL(f)->pMethods->xFetch(REAL(f), off, n, out);
}
static int x_unfetch(sqlite3_file *f, sqlite3_int64 off, void *p) {
    return REAL(f)->pMethods->xUnfetch(REAL(f), off, p);
}

static int v_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags, int *out_flags) {
    (void)vfs;
    shim_file *s = (shim_file *)(void *)f;
    s->real = (sqlite3_file *)(void *)(s + 1);
    int rc = g_real->xOpen(g_real, name, s->real, flags, out_flags);
    const sqlite3_io_methods *m = s->real->pMethods;
    if (!m) {
        s->base.pMethods = NULL;
        return rc;
    }
    s->base.pMethods = m->iVersion >= 3 ? &g_methods_v3 : m->iVersion == 2 ? &g_methods_v2 : &g_methods_v1;
    return rc;
}
static int v_delete(sqlite3_vfs *v, const char *name, int sync) {
    (void)v;
    return hx_io_fails() ? SQLITE_IOERR_DELETE : g_real->xDelete(g_real, name, sync);
}
static int v_access(sqlite3_vfs *v, const char *name, int flags, int *out) {
    (void)v;
    return g_real->xAccess(g_real, name, flags, out);
}
static int v_full(sqlite3_vfs *v, const char *name, int n, char *out) {
    (void)v;
    return g_real->xFullPathname(g_real, name, n, out);
}
static void *v_dlopen(sqlite3_vfs *v, const char *name) { return (void)v, g_real->xDlOpen(g_real, name); }
static void v_dlerror(sqlite3_vfs *v, int n, char *out) { (void)v, g_real->xDlError(g_real, n, out); }
static void (*v_dlsym(sqlite3_vfs *v, void *h, const char *sym))(void) {
    return (void)v, g_real->xDlSym(g_real, h, sym);
}
static void v_dlclose(sqlite3_vfs *v, void *h) { (void)v, g_real->xDlClose(g_real, h); }
static int v_random(sqlite3_vfs *v, int n, char *out) { return (void)v, g_real->xRandomness(g_real, n, out); }
static int v_sleep(sqlite3_vfs *v, int us) { return (void)v, g_real->xSleep(g_real, us); }
static int v_time(sqlite3_vfs *v, double *out) { return (void)v, g_real->xCurrentTime(g_real, out); }
static int v_last_error(sqlite3_vfs *v, int n, char *out) {
    (void)v;
    return g_real->xGetLastError ? g_real->xGetLastError(g_real, n, out) : 0;
}
static int v_time64(sqlite3_vfs *v, sqlite3_int64 *out) { return (void)v, g_real->xCurrentTimeInt64(g_real, out); }

static int g_ok;

static void install(void) {
    g_real = sqlite3_vfs_find(NULL);
    if (!g_real || g_real->iVersion < 2) return;
    g_methods_v1 = (sqlite3_io_methods){1, x_close, x_read, x_write, x_truncate, x_sync, x_size, x_lock,
                                        x_unlock, x_check, x_fcntl, x_sector, x_caps, NULL, NULL, NULL, NULL,
                                        NULL, NULL};
    g_methods_v2 = g_methods_v1;
    g_methods_v2.iVersion = 2;
    g_methods_v2.xShmMap = x_shm_map, g_methods_v2.xShmLock = x_shm_lock;
    g_methods_v2.xShmBarrier = x_shm_barrier, g_methods_v2.xShmUnmap = x_shm_unmap;
    g_methods_v3 = g_methods_v2;
    g_methods_v3.iVersion = 3;
    g_methods_v3.xFetch = x_fetch, g_methods_v3.xUnfetch = x_unfetch;
    g_vfs = (sqlite3_vfs){.iVersion = 2, .szOsFile = (int)sizeof(shim_file) + g_real->szOsFile,
                          .mxPathname = g_real->mxPathname, .zName = DB_VFS_NAME, .xOpen = v_open,
                          .xDelete = v_delete, .xAccess = v_access, .xFullPathname = v_full,
                          .xDlOpen = v_dlopen, .xDlError = v_dlerror, .xDlSym = v_dlsym, .xDlClose = v_dlclose,
                          .xRandomness = v_random, .xSleep = v_sleep, .xCurrentTime = v_time,
                          .xGetLastError = v_last_error, .xCurrentTimeInt64 = v_time64};
    g_ok = sqlite3_vfs_register(&g_vfs, 0) == SQLITE_OK;
}

const char *db_vfs(void) {
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, install);
    return g_ok ? DB_VFS_NAME : NULL;
}
