/**
 * Golden-vector test of the C side (PROTOCOL.md, ../test-vectors):
 *   golden_test check DIR   decode DIR/ts (written by the TS encoder): header, nanopb payload,
 *                           byte-identical re-encoding, and the meaning of each frame checked here
 *                           independently; then encode the C cases and compare with DIR/c.
 *   golden_test write DIR   (re)write the C cases into DIR (= test-vectors/c), temp dir + rename.
 * Prints "golden: N passed, M failed" and exits non-zero on any failure.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "moat_rpc_pb.h"

static int passed, failed;
static const char *current = "";

static int fail(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "FAIL %s: ", current);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  failed++;
  return 0;
}
#define CHECK(cond, ...) do { if (!(cond)) return fail(__VA_ARGS__); } while (0)
#define STREQ(a, b) ((a) != NULL && strcmp((a), (b)) == 0)

static uint8_t *read_all(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  size_t cap = 4096, n = 0;
  uint8_t *buf = malloc(cap);
  size_t r;
  while (buf && (r = fread(buf + n, 1, cap - n, f)) > 0) {
    n += r;
    if (n == cap) buf = realloc(buf, cap *= 2);
  }
  fclose(f);
  *len = n;
  return buf;
}

union any_msg {
  moat_rpc_v1_Hello hello;
  moat_rpc_v1_Open open;
  moat_rpc_v1_StreamMessage data;
  moat_rpc_v1_Reset reset;
  moat_rpc_v1_WindowUpdate window;
  moat_rpc_v1_ConnError error;
};

static int bytes_eq(const pb_bytes_array_t *b, const void *want, size_t n) {
  return b != NULL && b->size == n && memcmp(b->bytes, want, n) == 0;
}

/* ---- the meaning of each TS vector, described here independently of the TS side ---- */
static int check_meaning(const char *name, const struct moat_rpc_frame *f, const union any_msg *m) {
  const moat_rpc_v1_Open *o = &m->open;
  const moat_rpc_v1_StreamMessage *d = &m->data;
  if (STREQ(name, "hello-host")) {
    const moat_rpc_v1_Hello *h = &m->hello;
    CHECK(h->max_protocol_version == 1 && h->min_protocol_version == 1, "versions %u..%u", h->min_protocol_version, h->max_protocol_version);
    CHECK(STREQ(h->software_version, "@moat/rpc/golden"), "software_version");
    CHECK(h->capabilities_count == 2 && STREQ(h->capabilities[0], "egress.dial") && STREQ(h->capabilities[1], "egress.dns"), "capabilities");
    CHECK(h->max_frame_payload == 131072 && h->initial_window == 262144, "limits");
    CHECK(h->role == moat_rpc_v1_Role_ROLE_HOST, "role");
  } else if (STREQ(name, "open-exec")) {
    CHECK(o->timeout_ms == 30000 && o->which_call == moat_rpc_v1_Open_exec_tag, "timeout/call");
    const moat_rpc_v1_ExecRequest *e = &o->call.exec;
    CHECK(e->argv_count == 3 && STREQ(e->argv[0], "sh") && STREQ(e->argv[1], "-c") && STREQ(e->argv[2], "echo hi"), "argv");
    CHECK(e->env_count == 2 && STREQ(e->env[0], "A=1") && STREQ(e->env[1], "B=two words"), "env");
    CHECK(STREQ(e->cwd, "/work"), "cwd");
    CHECK(e->has_uid && e->uid == 1000 && e->has_gid && e->gid == 0, "uid/gid presence");
    CHECK(e->tty && e->rows == 24 && e->cols == 80 && e->stdin_open, "tty/size/stdin");
  } else if (STREQ(name, "open-health-fin")) {
    CHECK(f->header.flags == MOAT_RPC_FLAG_FIN && o->which_call == moat_rpc_v1_Open_health_tag && o->timeout_ms == 0, "health+FIN");
  } else if (STREQ(name, "data-stdin")) {
    uint8_t want[256];
    for (int i = 0; i < 256; i++) want[i] = (uint8_t)i;
    CHECK(d->which_body == moat_rpc_v1_StreamMessage_stdin_data_tag && bytes_eq(d->body.stdin_data.data, want, 256), "stdin bytes");
  } else if (STREQ(name, "data-resize")) {
    CHECK(d->which_body == moat_rpc_v1_StreamMessage_resize_tag && d->body.resize.rows == 50 && d->body.resize.cols == 132, "resize");
  } else if (STREQ(name, "data-signal")) {
    CHECK(d->which_body == moat_rpc_v1_StreamMessage_signal_tag && d->body.signal.number == 15, "signal");
  } else if (STREQ(name, "data-stdin-eof")) {
    CHECK(d->which_body == moat_rpc_v1_StreamMessage_stdin_eof_tag, "stdin_eof");
  } else if (STREQ(name, "close")) {
    CHECK(f->header.type == MOAT_RPC_CLOSE && f->header.length == 0 && f->header.stream_id == 1, "close");
  } else if (STREQ(name, "window")) {
    CHECK(m->window.increment == 65536, "increment %u", m->window.increment);
  } else if (STREQ(name, "reset-cancel")) {
    CHECK(m->reset.code == moat_rpc_v1_ErrorCode_ERROR_CODE_CANCELLED && m->reset.errno_value == 0, "code");
    CHECK(STREQ(m->reset.message, "exec make: cancelled (user pressed ^C)"), "message");
  } else if (STREQ(name, "open-file-put")) {
    const moat_rpc_v1_FilePutRequest *p = &o->call.file_put;
    CHECK(o->which_call == moat_rpc_v1_Open_file_put_tag && o->timeout_ms == 60000, "call");
    CHECK(STREQ(p->path, "/tmp/a b.txt") && p->mode == 0600 && p->make_parents, "path/mode");
    CHECK(p->has_mtime_ns && p->mtime_ns == 1700000000000000000LL, "mtime");
    CHECK(p->has_uid && p->uid == 0 && !p->has_gid, "uid presence");
  } else if (STREQ(name, "data-file-data-fin")) {
    CHECK(f->header.flags == MOAT_RPC_FLAG_FIN && d->which_body == moat_rpc_v1_StreamMessage_file_data_tag && bytes_eq(d->body.file_data.data, "hello\n", 6), "file data");
  } else if (STREQ(name, "open-file-get")) {
    const moat_rpc_v1_FileGetRequest *g = &o->call.file_get;
    CHECK(o->which_call == moat_rpc_v1_Open_file_get_tag && STREQ(g->path, "/etc/hostname") && g->offset == 10 && g->length == 100, "file_get");
  } else if (STREQ(name, "open-stat")) {
    CHECK(o->which_call == moat_rpc_v1_Open_stat_tag && STREQ(o->call.stat.path, "/bin/sh") && o->call.stat.no_follow, "stat");
  } else if (STREQ(name, "open-list")) {
    CHECK(o->which_call == moat_rpc_v1_Open_list_tag && STREQ(o->call.list.path, "/"), "list");
  } else if (STREQ(name, "open-mkdir")) {
    CHECK(o->which_call == moat_rpc_v1_Open_mkdir_tag && STREQ(o->call.mkdir.path, "/a/b/c") && o->call.mkdir.mode == 0700 && o->call.mkdir.parents, "mkdir");
  } else if (STREQ(name, "open-remove")) {
    CHECK(o->which_call == moat_rpc_v1_Open_remove_tag && STREQ(o->call.remove.path, "/a") && o->call.remove.recursive, "remove");
  } else if (STREQ(name, "open-shutdown")) {
    CHECK(o->which_call == moat_rpc_v1_Open_shutdown_tag && o->call.shutdown.action == moat_rpc_v1_ShutdownAction_SHUTDOWN_ACTION_REBOOT && o->call.shutdown.grace_ms == 500, "shutdown");
  } else if (STREQ(name, "error-unknown-type")) {
    CHECK(m->error.code == moat_rpc_v1_ErrorCode_ERROR_CODE_UNKNOWN_FRAME_TYPE && m->error.frame_type == 99 && !m->error.fatal, "error");
  } else if (STREQ(name, "unknown-type-99")) {
    CHECK(!moat_rpc_frame_type_known(f->header.type) && f->header.type == 99 && f->header.length == 4, "unknown type");
  } else {
    return fail("no C-side description of vector %s: add one to golden_test.c", name);
  }
  return 1;
}

/* Decodes one vector byte by byte, checks header, payload, re-encoding and meaning. */
static int check_ts_vector(const char *dir, const char *name, const char *file, unsigned type, unsigned stream, unsigned flags) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, file);
  size_t len = 0;
  uint8_t *bytes = read_all(path, &len);
  CHECK(bytes != NULL, "cannot read %s: %s", path, strerror(errno));
  static uint8_t payload_buf[MOAT_RPC_DEFAULT_MAX_PAYLOAD];
  struct moat_rpc_decoder dec;
  moat_rpc_decoder_init(&dec, payload_buf, sizeof payload_buf, sizeof payload_buf);
  struct moat_rpc_frame f;
  int frames = 0, ok = 1;
  for (size_t i = 0; i < len; i++) {
    size_t used = 0;
    int r = moat_rpc_decoder_feed(&dec, bytes + i, 1, &used, &f);
    if (used != 1 || r < 0) { ok = fail("feed byte %zu: r=%d used=%zu", i, r, used); break; }
    if (r == MOAT_RPC_OK) {
      frames++;
      if (i != len - 1) { ok = fail("frame ended at byte %zu of %zu", i, len); break; }
    }
  }
  if (ok && frames != 1) ok = fail("%d frames decoded, want 1", frames);
  if (ok && (f.header.type != type || f.header.stream_id != stream || f.header.flags != flags)) {
    ok = fail("header type=%u stream=%u flags=%u, index says %u/%u/%u", f.header.type, f.header.stream_id, f.header.flags, type, stream, flags);
  }
  union any_msg msg;
  const pb_msgdesc_t *desc = ok ? moat_rpc_payload_desc(f.header.type) : NULL;
  if (ok && desc != NULL) {
    memset(&msg, 0, sizeof msg);
    if (moat_rpc_payload_decode(&f, desc, &msg) != MOAT_RPC_OK) {
      ok = fail("nanopb cannot decode the %s payload", moat_rpc_frame_type_name(f.header.type));
    } else {
      static uint8_t again[MOAT_RPC_DEFAULT_MAX_PAYLOAD + MOAT_RPC_HEADER_SIZE];
      long n = moat_rpc_frame_encode(again, sizeof again, f.header.stream_id, f.header.type, f.header.flags, desc, &msg);
      if (n != (long)len || memcmp(again, bytes, len) != 0) ok = fail("re-encoded frame differs (%ld vs %zu bytes)", n, len);
      if (ok) ok = check_meaning(name, &f, &msg);
      pb_release(desc, &msg);
    }
  } else if (ok) {
    ok = check_meaning(name, &f, NULL);
  }
  free(bytes);
  return ok;
}

/* ---- the C cases (their meaning is mirrored in test/vector-cases.ts C_CASES) ---- */
struct c_case {
  const char *name;
  uint32_t stream;
  uint8_t type, flags;
  const pb_msgdesc_t *desc;
  union any_msg msg;
};

static char *caps[] = {"exec", "exec.tty", "files", "health", "shutdown"};
PB_BYTES_ARRAY_T(3) hi = {3, "hi\n"};
PB_BYTES_ARRAY_T(3) err_bytes = {3, {0x00, 0xff, 0x10}};
static moat_rpc_v1_FileInfo entries[2];

static int make_cases(struct c_case *cs) {
  int n = 0;
  memset(cs, 0, sizeof(struct c_case) * 16);
#define NEXT(nm, sid, ty, fl, d) (cs[n].name = nm, cs[n].stream = sid, cs[n].type = ty, cs[n].flags = fl, cs[n].desc = d, &cs[n++].msg)
  union any_msg *m;
  m = NEXT("hello-guest", 0, MOAT_RPC_HELLO, 0, moat_rpc_v1_Hello_fields);
  m->hello.max_protocol_version = 1;
  m->hello.min_protocol_version = 1;
  m->hello.software_version = "moat-agent/golden";
  m->hello.capabilities_count = 5;
  m->hello.capabilities = caps;
  m->hello.role = moat_rpc_v1_Role_ROLE_GUEST;
  m = NEXT("data-started", 1, MOAT_RPC_DATA, 0, moat_rpc_v1_StreamMessage_fields);
  m->data.which_body = moat_rpc_v1_StreamMessage_started_tag;
  m->data.body.started.pid = 4242;
  m = NEXT("data-stdout", 1, MOAT_RPC_DATA, 0, moat_rpc_v1_StreamMessage_fields);
  m->data.which_body = moat_rpc_v1_StreamMessage_stdout_data_tag;
  m->data.body.stdout_data.data = (pb_bytes_array_t *)&hi;
  m = NEXT("data-stderr", 1, MOAT_RPC_DATA, 0, moat_rpc_v1_StreamMessage_fields);
  m->data.which_body = moat_rpc_v1_StreamMessage_stderr_data_tag;
  m->data.body.stderr_data.data = (pb_bytes_array_t *)&err_bytes;
  m = NEXT("data-exit-code", 1, MOAT_RPC_DATA, MOAT_RPC_FLAG_FIN, moat_rpc_v1_StreamMessage_fields);
  m->data.which_body = moat_rpc_v1_StreamMessage_exit_tag;
  m->data.body.exit.which_status = moat_rpc_v1_ExecExit_code_tag;
  m->data.body.exit.status.code = 3;
  m = NEXT("data-exit-zero", 1, MOAT_RPC_DATA, MOAT_RPC_FLAG_FIN, moat_rpc_v1_StreamMessage_fields);
  m->data.which_body = moat_rpc_v1_StreamMessage_exit_tag;
  m->data.body.exit.which_status = moat_rpc_v1_ExecExit_code_tag;
  m->data.body.exit.status.code = 0;
  m = NEXT("data-exit-signal", 3, MOAT_RPC_DATA, MOAT_RPC_FLAG_FIN, moat_rpc_v1_StreamMessage_fields);
  m->data.which_body = moat_rpc_v1_StreamMessage_exit_tag;
  m->data.body.exit.which_status = moat_rpc_v1_ExecExit_signal_tag;
  m->data.body.exit.status.signal = 9;
  m->data.body.exit.core_dumped = true;
  m = NEXT("data-file-info", 5, MOAT_RPC_DATA, 0, moat_rpc_v1_StreamMessage_fields);
  m->data.which_body = moat_rpc_v1_StreamMessage_file_info_tag;
  m->data.body.file_info = (moat_rpc_v1_FileInfo){.name = "/tmp/x", .type = moat_rpc_v1_FileType_FILE_TYPE_REGULAR, .mode = 0644,
                                                  .size = 5000000000ULL, .mtime_ns = 1700000000000000000LL, .uid = 1000, .gid = 1000};
  m = NEXT("data-entries", 7, MOAT_RPC_DATA, 0, moat_rpc_v1_StreamMessage_fields);
  entries[0] = (moat_rpc_v1_FileInfo){.name = "a", .type = moat_rpc_v1_FileType_FILE_TYPE_DIRECTORY, .mode = 0755};
  entries[1] = (moat_rpc_v1_FileInfo){.name = "l", .type = moat_rpc_v1_FileType_FILE_TYPE_SYMLINK, .mode = 0777, .link_target = "/x"};
  m->data.which_body = moat_rpc_v1_StreamMessage_entries_tag;
  m->data.body.entries.entries_count = 2;
  m->data.body.entries.entries = entries;
  m = NEXT("data-health", 9, MOAT_RPC_DATA, MOAT_RPC_FLAG_FIN, moat_rpc_v1_StreamMessage_fields);
  m->data.which_body = moat_rpc_v1_StreamMessage_health_tag;
  m->data.body.health = (moat_rpc_v1_HealthResponse){.uptime_ms = 123456, .mem_total_bytes = 1073741824ULL, .mem_available_bytes = 536870912ULL,
                                                     .load_avg_milli = 250, .processes = 2, .agent_version = "moat-agent/golden"};
  m = NEXT("reset-spawn", 11, MOAT_RPC_RESET, 0, moat_rpc_v1_Reset_fields);
  m->reset.code = moat_rpc_v1_ErrorCode_ERROR_CODE_SPAWN_FAILED;
  m->reset.message = "execve nope: No such file or directory";
  m->reset.errno_value = 2;
  m = NEXT("window", 1, MOAT_RPC_WINDOW, 0, moat_rpc_v1_WindowUpdate_fields);
  m->window.increment = 131072;
  NEXT("close", 1, MOAT_RPC_CLOSE, 0, NULL);
  m = NEXT("error-version", 0, MOAT_RPC_ERROR, 0, moat_rpc_v1_ConnError_fields);
  m->error.code = moat_rpc_v1_ErrorCode_ERROR_CODE_VERSION_MISMATCH;
  m->error.message = "no common protocol version: agent speaks 1..1, host 2..3";
  m->error.fatal = true;
#undef NEXT
  return n;
}

static int run_c_cases(const char *dir, int write) {
  struct c_case cs[16];
  int n = make_cases(cs);
  char tmpdir[4096], path[4096];
  FILE *index = NULL;
  if (write) {
    snprintf(tmpdir, sizeof tmpdir, "%s.tmp-%d", dir, (int)getpid());
    if (mkdir(tmpdir, 0755) != 0) { fprintf(stderr, "mkdir %s: %s\n", tmpdir, strerror(errno)); return 1; }
    snprintf(path, sizeof path, "%s/index.txt", tmpdir);
    index = fopen(path, "w");
    if (!index) { fprintf(stderr, "create %s: %s\n", path, strerror(errno)); return 1; }
    fprintf(index, "# name file type stream_id flags  (written by packages/rpc/c/test/golden_test.c)\n");
  }
  for (int i = 0; i < n; i++) {
    current = cs[i].name;
    static uint8_t out[MOAT_RPC_DEFAULT_MAX_PAYLOAD];
    long len = moat_rpc_frame_encode(out, sizeof out, cs[i].stream, cs[i].type, cs[i].flags, cs[i].desc, cs[i].desc ? (void *)&cs[i].msg : NULL);
    if (len < 0) { fail("encode failed: %ld", len); continue; }
    char file[256];
    snprintf(file, sizeof file, "%02d-%s.bin", i, cs[i].name);
    if (write) {
      snprintf(path, sizeof path, "%s/%s", tmpdir, file);
      FILE *f = fopen(path, "wb");
      if (!f || fwrite(out, 1, (size_t)len, f) != (size_t)len || fclose(f) != 0) { fprintf(stderr, "write %s failed\n", path); return 1; }
      fprintf(index, "%s %s %u %u %u\n", cs[i].name, file, cs[i].type, cs[i].stream, cs[i].flags);
      continue;
    }
    snprintf(path, sizeof path, "%s/%s", dir, file);
    size_t have = 0;
    uint8_t *committed = read_all(path, &have);
    if (!committed) { fail("missing %s (run: make vectors)", path); continue; }
    if (have != (size_t)len || memcmp(committed, out, have) != 0) fail("C encoding differs from committed %s: an incompatible change?", file);
    else passed++;
    free(committed);
  }
  if (write) {
    fclose(index);
    char cmd[8300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && mv '%s' '%s'", dir, tmpdir, dir);
    if (system(cmd) != 0) { fprintf(stderr, "replacing %s failed\n", dir); return 1; }
    printf("wrote %d C vectors to %s\n", n, dir);
  }
  return 0;
}

static int check_ts_dir(const char *dir) {
  char path[4096], line[1024];
  snprintf(path, sizeof path, "%s/index.txt", dir);
  FILE *idx = fopen(path, "r");
  if (!idx) { fprintf(stderr, "cannot open %s: %s\n", path, strerror(errno)); failed++; return 0; }
  int count = 0;
  while (fgets(line, sizeof line, idx)) {
    if (line[0] == '#' || line[0] == '\n') continue;
    char name[256], file[256];
    unsigned type, stream, flags;
    if (sscanf(line, "%255s %255s %u %u %u", name, file, &type, &stream, &flags) != 5) { current = "index"; fail("bad index line: %s", line); continue; }
    current = name;
    if (check_ts_vector(dir, name, file, type, stream, flags)) passed++;
    count++;
  }
  fclose(idx);
  if (count == 0) { current = "index"; fail("no vectors listed in %s", path); }
  return count;
}

/* Negative cases of the decoder itself: oversized length, truncation, split feeding. */
static void check_decoder_errors(void) {
  static uint8_t buf[64];
  struct moat_rpc_decoder d;
  struct moat_rpc_frame f;
  size_t used;
  current = "decoder-too-large";
  moat_rpc_decoder_init(&d, buf, sizeof buf, 64);
  uint8_t head[12] = {65, 0, 0, 0, 1, 0, 0, 0, MOAT_RPC_DATA, 0, 0, 0};
  if (moat_rpc_decoder_feed(&d, head, 12, &used, &f) != MOAT_RPC_E_TOO_LARGE || f.header.length != 65) fail("length 65 > 64 accepted");
  else if (moat_rpc_decoder_feed(&d, head, 1, &used, &f) != MOAT_RPC_E_TOO_LARGE) fail("error not sticky");
  else passed++;
  current = "decoder-partial";
  moat_rpc_decoder_init(&d, buf, sizeof buf, 64);
  head[0] = 5;
  if (moat_rpc_decoder_feed(&d, head, 12, &used, &f) != MOAT_RPC_NEED_MORE || !moat_rpc_decoder_partial(&d)) fail("partial not reported");
  else passed++;
  current = "decoder-init";
  if (moat_rpc_decoder_init(&d, buf, 10, 64) != MOAT_RPC_E_INVALID || moat_rpc_decoder_init(&d, buf, sizeof buf, MOAT_RPC_HARD_MAX_PAYLOAD + 1) != MOAT_RPC_E_INVALID) fail("bad init accepted");
  else passed++;
  current = "negotiate";
  if (moat_rpc_negotiate_version(1, 1, 1, 3) != 1 || moat_rpc_negotiate_version(1, 2, 2, 3) != 2 || moat_rpc_negotiate_version(1, 1, 2, 3) != 0) fail("negotiation");
  else passed++;
  current = "encode-no-space";
  uint8_t small[13];
  if (moat_rpc_frame_write(small, sizeof small, 1, MOAT_RPC_DATA, 0, (const uint8_t *)"ab", 2) != MOAT_RPC_E_NO_SPACE) fail("overflow not refused");
  else passed++;
}

int main(int argc, char **argv) {
  if (argc != 3 || (strcmp(argv[1], "check") != 0 && strcmp(argv[1], "write") != 0)) {
    fprintf(stderr, "usage: %s check TEST_VECTORS_DIR | write TEST_VECTORS_DIR/c\n", argv[0]);
    return 2;
  }
  if (strcmp(argv[1], "write") == 0) return run_c_cases(argv[2], 1);
  char dir[4096];
  snprintf(dir, sizeof dir, "%s/ts", argv[2]);
  check_ts_dir(dir);
  snprintf(dir, sizeof dir, "%s/c", argv[2]);
  run_c_cases(dir, 0);
  check_decoder_errors();
  printf("golden: %d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
