/**
 * File call streams (see file_service.h). file_get and list produce output only while the stream
 * has room (credit and connection buffer) and resume from on_writable, so a large file or
 * directory never sits in memory; file_put writes each chunk through to a temporary file and
 * returns credit as it goes.
 */
#include "file_service.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsops.h"

#define LIST_BATCH_BYTES 32768u
#define CHUNK_OVERHEAD 16u

struct file_stream {
  struct stream base;
  char *path;
  /* file_put */
  struct fs_upload up;
  bool up_active, has_mtime, set_owner;
  uint32_t mode, uid, gid;
  int64_t mtime_ns;
  /* file_get */
  int fd;
  uint64_t offset, remaining;
  bool to_end;
  /* list */
  DIR *dir;
};

static pb_bytes_array_t *chunk_buf;

size_t file_stream_size(void) { return sizeof(struct file_stream); }

static moat_rpc_v1_FileType file_type(mode_t m) {
  if (S_ISREG(m)) return moat_rpc_v1_FileType_FILE_TYPE_REGULAR;
  if (S_ISDIR(m)) return moat_rpc_v1_FileType_FILE_TYPE_DIRECTORY;
  if (S_ISLNK(m)) return moat_rpc_v1_FileType_FILE_TYPE_SYMLINK;
  return moat_rpc_v1_FileType_FILE_TYPE_OTHER;
}

/* Fills info from st; link_target is read when the entry is a symlink (caller frees it). */
static void fill_info(moat_rpc_v1_FileInfo *info, char *name, const struct stat *st, int dirfd, const char *rel) {
  memset(info, 0, sizeof *info);
  info->name = name;
  info->type = file_type(st->st_mode);
  info->mode = st->st_mode & 07777;
  info->size = (uint64_t)st->st_size;
  info->mtime_ns = (int64_t)st->st_mtim.tv_sec * 1000000000LL + st->st_mtim.tv_nsec;
  info->uid = st->st_uid;
  info->gid = st->st_gid;
  if (S_ISLNK(st->st_mode)) {
    char target[4096];
    ssize_t n = readlinkat(dirfd, rel, target, sizeof target - 1);
    if (n >= 0) {
      target[n] = '\0';
      info->link_target = strdup(target);
    }
  }
}

static void file_destroy(struct stream *s) {
  struct file_stream *f = (struct file_stream *)s;
  if (f->up_active) fs_upload_abort(&f->up);
  if (f->fd >= 0) close(f->fd);
  if (f->dir) closedir(f->dir);
  free(f->path);
}

static void fail(struct file_stream *f, int err, const char *call) {
  char what[4200];
  snprintf(what, sizeof what, "%s %s", call, f->path);
  stream_reset_errno(&f->base, err, what);
}

static bool send_info_of(struct file_stream *f, const struct stat *st, bool fin) {
  moat_rpc_v1_StreamMessage msg = moat_rpc_v1_StreamMessage_init_zero;
  msg.which_body = moat_rpc_v1_StreamMessage_file_info_tag;
  fill_info(&msg.body.file_info, f->path, st, AT_FDCWD, f->path);
  int rc = stream_send(&f->base, &msg, fin);
  free(msg.body.file_info.link_target);
  return rc == 0;
}

/* ---- stat, mkdir, remove: answered at once ---- */

static void do_stat(struct file_stream *f, bool no_follow) {
  struct stat st;
  if ((no_follow ? lstat(f->path, &st) : stat(f->path, &st)) != 0) return fail(f, errno, "stat");
  send_info_of(f, &st, true);
}

static void do_mkdir(struct file_stream *f, uint32_t mode, bool parents) {
  int rc = fs_mkdir(f->path, mode ? mode & 07777 : 0755, parents);
  if (rc == -EEXIST && parents) rc = 0;
  if (rc < 0) return fail(f, -rc, "mkdir");
  stream_close(&f->base);
}

static void do_remove(struct file_stream *f, bool recursive) {
  if (strcmp(f->path, "/") == 0) return fail(f, EBUSY, "remove");
  int rc = fs_remove(f->path, recursive);
  if (rc < 0) return fail(f, -rc, "remove");
  stream_close(&f->base);
}

/* ---- file_get ---- */

static void get_pump(struct stream *s) {
  struct file_stream *f = (struct file_stream *)s;
  while (!s->finished && (f->to_end || f->remaining > 0)) {
    uint32_t room = stream_send_room(s);
    if (room < 1024 + CHUNK_OVERHEAD) {
      stream_wait_writable(s);
      return;
    }
    size_t want = room - CHUNK_OVERHEAD;
    if (want > MOAT_RPC_MAX_CHUNK) want = MOAT_RPC_MAX_CHUNK;
    if (!f->to_end && want > f->remaining) want = (size_t)f->remaining;
    ssize_t n = pread(f->fd, chunk_buf->bytes, want, (off_t)f->offset);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail(f, errno, "read");
    if (n == 0) break;
    f->offset += (uint64_t)n;
    if (!f->to_end) f->remaining -= (uint64_t)n;
    chunk_buf->size = (pb_size_t)n;
    moat_rpc_v1_StreamMessage msg = moat_rpc_v1_StreamMessage_init_zero;
    msg.which_body = moat_rpc_v1_StreamMessage_file_data_tag;
    msg.body.file_data.data = chunk_buf;
    if (stream_send(s, &msg, false) != 0) return;
  }
  stream_close(s);
}

static void do_get(struct file_stream *f, uint64_t offset, uint64_t length) {
  f->fd = open(f->path, O_RDONLY | O_CLOEXEC);
  if (f->fd < 0) return fail(f, errno, "get");
  struct stat st;
  if (fstat(f->fd, &st) != 0) return fail(f, errno, "get");
  if (S_ISDIR(st.st_mode)) return fail(f, EISDIR, "get");
  f->offset = offset;
  f->remaining = length;
  f->to_end = length == 0;
  if (!send_info_of(f, &st, false)) return;
  get_pump(&f->base);
}

/* ---- list ---- */

static void list_pump(struct stream *s) {
  struct file_stream *f = (struct file_stream *)s;
  moat_rpc_v1_FileInfo batch[256];
  /* A batch stops growing past batch_limit; one more entry (name + link target) may overshoot. */
  uint32_t batch_limit = s->conn->peer_max_payload / 2 < LIST_BATCH_BYTES ? s->conn->peer_max_payload / 2 : LIST_BATCH_BYTES;
  uint32_t need = batch_limit + 4608 < s->conn->peer_max_payload ? batch_limit + 4608 : s->conn->peer_max_payload;
  for (;;) {
    uint32_t room = stream_send_room(s);
    if (room < need) {
      stream_wait_writable(s);
      return;
    }
    pb_size_t n = 0;
    size_t bytes = 0;
    struct dirent *de = NULL;
    errno = 0;
    while (n < 256 && bytes < batch_limit && (de = readdir(f->dir)) != NULL) {
      if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0) continue;
      struct stat st;
      if (fstatat(dirfd(f->dir), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue; /* vanished */
      fill_info(&batch[n], strdup(de->d_name), &st, dirfd(f->dir), de->d_name);
      bytes += strlen(de->d_name) + (batch[n].link_target ? strlen(batch[n].link_target) : 0) + 48;
      n++;
    }
    int read_err = de == NULL ? errno : 0;
    if (n > 0) {
      moat_rpc_v1_StreamMessage msg = moat_rpc_v1_StreamMessage_init_zero;
      msg.which_body = moat_rpc_v1_StreamMessage_entries_tag;
      msg.body.entries.entries = batch;
      msg.body.entries.entries_count = n;
      int rc = stream_send(s, &msg, false);
      for (pb_size_t i = 0; i < n; i++) {
        free(batch[i].name);
        free(batch[i].link_target);
      }
      if (rc != 0) {
        stream_reset(s, moat_rpc_v1_ErrorCode_ERROR_CODE_INTERNAL, 0, "list %s: entries batch too large to send", f->path);
        return;
      }
    }
    if (read_err) return fail(f, read_err, "list");
    if (de == NULL) break;
  }
  stream_close(s);
}

static void do_list(struct file_stream *f) {
  f->dir = opendir(f->path);
  if (!f->dir) return fail(f, errno, "list");
  list_pump(&f->base);
}

/* ---- file_put ---- */

static void put_message(struct stream *s, moat_rpc_v1_StreamMessage *msg, uint32_t wire_len) {
  struct file_stream *f = (struct file_stream *)s;
  if (msg->which_body != moat_rpc_v1_StreamMessage_file_data_tag) {
    stream_reset(s, moat_rpc_v1_ErrorCode_ERROR_CODE_PROTOCOL_ERROR, 0,
                 "file_put %s: expected file_data, got message kind %u", f->path, (unsigned)msg->which_body);
    return;
  }
  const pb_bytes_array_t *d = msg->body.file_data.data;
  int rc = d ? fs_upload_write(&f->up, d->bytes, d->size) : 0;
  if (rc < 0) return fail(f, -rc, "put");
  stream_consumed(s, wire_len);
}

static void put_remote_close(struct stream *s) {
  struct file_stream *f = (struct file_stream *)s;
  f->up_active = false;
  int rc = fs_upload_commit(&f->up, f->mode ? f->mode : 0644, f->set_owner, f->uid, f->gid, f->has_mtime, f->mtime_ns);
  if (rc < 0) return fail(f, -rc, "put");
  struct stat st;
  if (stat(f->path, &st) != 0) return fail(f, errno, "put");
  send_info_of(f, &st, true);
}

static void unexpected_message(struct stream *s, moat_rpc_v1_StreamMessage *msg, uint32_t wire_len) {
  (void)wire_len;
  stream_reset(s, moat_rpc_v1_ErrorCode_ERROR_CODE_PROTOCOL_ERROR, 0,
               "stream %u: this call takes no DATA from the host (got message kind %u)", s->id, (unsigned)msg->which_body);
}

static const struct stream_ops put_ops = {.on_message = put_message, .on_remote_close = put_remote_close, .destroy = file_destroy};
static const struct stream_ops get_ops = {.on_message = unexpected_message, .on_writable = get_pump, .destroy = file_destroy};
static const struct stream_ops list_ops = {.on_message = unexpected_message, .on_writable = list_pump, .destroy = file_destroy};
static const struct stream_ops once_ops = {.on_message = unexpected_message, .destroy = file_destroy};

static const char *request_path(moat_rpc_v1_Open *o) {
  switch (o->which_call) {
    case moat_rpc_v1_Open_file_put_tag: return o->call.file_put.path;
    case moat_rpc_v1_Open_file_get_tag: return o->call.file_get.path;
    case moat_rpc_v1_Open_stat_tag: return o->call.stat.path;
    case moat_rpc_v1_Open_list_tag: return o->call.list.path;
    case moat_rpc_v1_Open_mkdir_tag: return o->call.mkdir.path;
    case moat_rpc_v1_Open_remove_tag: return o->call.remove.path;
    default: return NULL;
  }
}

void file_open(struct stream *s, moat_rpc_v1_Open *o) {
  struct file_stream *f = (struct file_stream *)s;
  f->fd = -1;
  s->ops = &once_ops;
  const char *path = request_path(o);
  if (!path || path[0] != '/') {
    stream_reset(s, moat_rpc_v1_ErrorCode_ERROR_CODE_INVALID_ARGUMENT, EINVAL,
                 "path \"%s\" is not absolute: file calls take guest paths starting with /", path ? path : "");
    return;
  }
  f->path = strdup(path);
  if (!f->path || (!chunk_buf && !(chunk_buf = malloc(PB_BYTES_ARRAY_T_ALLOCSIZE(MOAT_RPC_MAX_CHUNK))))) {
    stream_reset(s, moat_rpc_v1_ErrorCode_ERROR_CODE_RESOURCE_EXHAUSTED, ENOMEM, "agent out of memory");
    return;
  }
  switch (o->which_call) {
    case moat_rpc_v1_Open_stat_tag: do_stat(f, o->call.stat.no_follow); break;
    case moat_rpc_v1_Open_mkdir_tag: do_mkdir(f, o->call.mkdir.mode, o->call.mkdir.parents); break;
    case moat_rpc_v1_Open_remove_tag: do_remove(f, o->call.remove.recursive); break;
    case moat_rpc_v1_Open_file_get_tag:
      s->ops = &get_ops;
      do_get(f, o->call.file_get.offset, o->call.file_get.length);
      break;
    case moat_rpc_v1_Open_list_tag:
      s->ops = &list_ops;
      do_list(f);
      break;
    case moat_rpc_v1_Open_file_put_tag: {
      moat_rpc_v1_FilePutRequest *p = &o->call.file_put;
      s->ops = &put_ops;
      f->mode = p->mode & 07777;
      f->has_mtime = p->has_mtime_ns;
      f->mtime_ns = p->mtime_ns;
      f->set_owner = p->has_uid || p->has_gid;
      f->uid = p->has_uid ? p->uid : 0;
      f->gid = p->has_gid ? p->gid : 0;
      int rc = fs_upload_begin(&f->up, f->path, p->make_parents);
      if (rc < 0) return fail(f, -rc, "put");
      f->up_active = true;
      break;
    }
    default: break;
  }
}
