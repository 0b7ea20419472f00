/**
 * Call dispatch: maps Open.call to the service that serves it (exec, files, control) and
 * implements the two small control calls, health and shutdown.
 */
#include <stdio.h>
#include <string.h>
#include <sys/sysinfo.h>
#include <time.h>

#include "../agent.h"
#include "../exec/exec_service.h"
#include "../files/file_service.h"
#include "../version.h"
#include "conn.h"

static void no_message(struct stream *s, moat_rpc_v1_StreamMessage *msg, uint32_t wire_len) {
  (void)wire_len;
  stream_reset(s, moat_rpc_v1_ErrorCode_ERROR_CODE_PROTOCOL_ERROR, 0,
               "stream %u: this call takes no DATA from the host (got message kind %u)", s->id, (unsigned)msg->which_body);
}

static const struct stream_ops control_ops = {.on_message = no_message};

static uint64_t meminfo_bytes(const char *key) {
  FILE *f = fopen("/proc/meminfo", "re");
  if (!f) return 0;
  char line[256];
  unsigned long long kb = 0;
  size_t klen = strlen(key);
  while (fgets(line, sizeof line, f))
    if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
      sscanf(line + klen + 1, "%llu", &kb);
      break;
    }
  fclose(f);
  return (uint64_t)kb * 1024u;
}

static void health(struct stream *s) {
  moat_rpc_v1_StreamMessage msg = moat_rpc_v1_StreamMessage_init_zero;
  msg.which_body = moat_rpc_v1_StreamMessage_health_tag;
  moat_rpc_v1_HealthResponse *h = &msg.body.health;
  struct timespec ts;
  clock_gettime(CLOCK_BOOTTIME, &ts);
  h->uptime_ms = (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
  h->mem_total_bytes = meminfo_bytes("MemTotal");
  h->mem_available_bytes = meminfo_bytes("MemAvailable");
  struct sysinfo si;
  if (sysinfo(&si) == 0) h->load_avg_milli = (uint32_t)((si.loads[0] * 1000u) >> SI_LOAD_SHIFT);
  h->processes = exec_live_count();
  h->agent_version = MOAT_AGENT_VERSION;
  stream_send(s, &msg, true);
}

static void shutdown_call(struct stream *s, const moat_rpc_v1_ShutdownRequest *req) {
  stream_close(s);
  agent_request_shutdown(req->action == moat_rpc_v1_ShutdownAction_SHUTDOWN_ACTION_REBOOT,
                         req->grace_ms ? req->grace_ms : 2000);
}

size_t services_stream_size(pb_size_t which_call) {
  switch (which_call) {
    case moat_rpc_v1_Open_health_tag:
    case moat_rpc_v1_Open_shutdown_tag: return sizeof(struct stream);
    case moat_rpc_v1_Open_exec_tag: return exec_stream_size();
    case moat_rpc_v1_Open_file_put_tag:
    case moat_rpc_v1_Open_file_get_tag:
    case moat_rpc_v1_Open_stat_tag:
    case moat_rpc_v1_Open_list_tag:
    case moat_rpc_v1_Open_mkdir_tag:
    case moat_rpc_v1_Open_remove_tag: return file_stream_size();
    default: return 0;
  }
}

void services_open(struct stream *s, moat_rpc_v1_Open *open) {
  s->ops = &control_ops;
  switch (open->which_call) {
    case moat_rpc_v1_Open_health_tag: health(s); break;
    case moat_rpc_v1_Open_shutdown_tag: shutdown_call(s, &open->call.shutdown); break;
    case moat_rpc_v1_Open_exec_tag: exec_open(s, &open->call.exec); break;
    default: file_open(s, open); break;
  }
}
