/**
 * C unit tests of the agent's pure parts, built with ASan/UBSan (make build/agent-unit-tests) and
 * run by test/unit.test.ts: kernel command line parsing and the file-system helpers. Prints one line
 * per check and "N passed, M failed" at the end; exits non-zero on any failure.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../src/files/fsops.h"
#include "../../src/init/cmdline.h"

static int passed, failed;

#define CHECK(cond)                                                       \
  do {                                                                    \
    if (cond) {                                                           \
      passed++;                                                           \
    } else {                                                              \
      failed++;                                                           \
      printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);              \
    }                                                                     \
  } while (0)

static void test_cmdline(void) {
  struct boot_params p;
  boot_params_defaults(&p);
  CHECK(!p.poweroff && p.overlay && strcmp(p.hostname, "moat") == 0 && p.vsock_port == 1024);
  CHECK(strcmp(p.rwdisk, "/dev/vdb") == 0 && p.shutdown == SHUTDOWN_AUTO);

  boot_params_parse(&p, "console=ttyS0 root=/dev/vda moat.poweroff=1 moat.hostname=box-1 moat.clock=1700000000 "
                        "moat.port=2048 moat.rwdisk=none moat.overlay=0 moat.shutdown=reboot moat.debug\n");
  CHECK(p.poweroff && p.debug && !p.overlay);
  CHECK(strcmp(p.hostname, "box-1") == 0);
  CHECK(p.clock == 1700000000LL);
  CHECK(p.vsock_port == 2048);
  CHECK(strcmp(p.rwdisk, "none") == 0);
  CHECK(p.shutdown == SHUTDOWN_REBOOT);

  /* Bad values keep the defaults (a warning goes to stderr). */
  boot_params_defaults(&p);
  boot_params_parse(&p, "moat.hostname=bad_name! moat.clock=soon moat.port=0 moat.rwdisk=sda moat.poweroff=maybe "
                        "moat.shutdown=explode moat.unknown=1");
  CHECK(strcmp(p.hostname, "moat") == 0 && p.clock == 0 && p.vsock_port == 1024);
  CHECK(strcmp(p.rwdisk, "/dev/vdb") == 0 && !p.poweroff && p.shutdown == SHUTDOWN_AUTO);

  /* Quoted values and a very long word do not overflow. */
  boot_params_defaults(&p);
  char long_line[4096];
  memset(long_line, 'x', sizeof long_line - 1);
  long_line[sizeof long_line - 1] = '\0';
  memcpy(long_line, "moat.hostname=", 14);
  boot_params_parse(&p, long_line);
  CHECK(strcmp(p.hostname, "moat") == 0);
  boot_params_parse(&p, "quiet moat.hostname=\"quoted\" x=\"a b\"");
  CHECK(strcmp(p.hostname, "quoted") == 0);
  boot_params_parse(&p, "");
  CHECK(strcmp(p.hostname, "quoted") == 0);
}

static void test_fsops(const char *base) {
  char path[512], other[512];
  snprintf(path, sizeof path, "%s/a/b/c", base);
  CHECK(fs_mkdir(path, 0700, true) == 0);
  struct stat st;
  CHECK(stat(path, &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & 0777) == 0700);
  CHECK(fs_mkdir(path, 0700, true) == 0);
  CHECK(fs_mkdir(path, 0700, false) == -EEXIST);

  snprintf(other, sizeof other, "%s/outside", base);
  CHECK(mkdir(other, 0755) == 0);
  snprintf(path, sizeof path, "%s/outside/keep", base);
  CHECK(close(open(path, O_CREAT | O_WRONLY, 0644)) == 0);
  snprintf(path, sizeof path, "%s/a/b/escape", base);
  CHECK(symlink(other, path) == 0);
  snprintf(path, sizeof path, "%s/a", base);
  CHECK(fs_remove(path, false) == -ENOTEMPTY);
  CHECK(fs_remove(path, true) == 0);
  CHECK(access(path, F_OK) != 0);
  snprintf(path, sizeof path, "%s/outside/keep", base);
  CHECK(access(path, F_OK) == 0); /* the symlink was removed, its target kept */

  /* An upload is invisible until committed, and an abort leaves nothing. */
  struct fs_upload u;
  snprintf(path, sizeof path, "%s/up/file.txt", base);
  CHECK(fs_upload_begin(&u, path, true) == 0);
  CHECK(fs_upload_write(&u, "hello", 5) == 0);
  CHECK(access(path, F_OK) != 0);
  CHECK(fs_upload_commit(&u, 0640, false, 0, 0, true, 1000000000LL * 1234567890 + 5) == 0);
  CHECK(stat(path, &st) == 0 && st.st_size == 5 && (st.st_mode & 0777) == 0640);
  CHECK(st.st_mtim.tv_sec == 1234567890 && st.st_mtim.tv_nsec == 5);
  CHECK(fs_upload_begin(&u, path, false) == 0);
  CHECK(fs_upload_write(&u, "partial", 7) == 0);
  fs_upload_abort(&u);
  fs_upload_abort(&u);
  snprintf(other, sizeof other, "%s/up", base);
  CHECK(fs_remove(path, false) == 0);
  CHECK(rmdir(other) == 0); /* empty: the aborted temporary is gone */
  CHECK(fs_upload_begin(&u, base, false) == -EISDIR);
  snprintf(path, sizeof path, "%s/missing-dir/x", base);
  CHECK(fs_upload_begin(&u, path, false) == -ENOENT);
  snprintf(path, sizeof path, "%s/outside", base);
  CHECK(fs_remove(path, true) == 0);
}

int main(void) {
  char base[] = "/tmp/moat-agent-unit-XXXXXX";
  if (!mkdtemp(base)) {
    perror("mkdtemp");
    return 2;
  }
  test_cmdline();
  test_fsops(base);
  rmdir(base);
  printf("%d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
