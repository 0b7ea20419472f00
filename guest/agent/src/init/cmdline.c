/**
 * Parsing of the moat.* kernel command line parameters (see cmdline.h). Bad values are reported on
 * the console with the parameter and the accepted form, and the default is kept.
 */
#include "cmdline.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/log.h"

#define DEFAULT_VSOCK_PORT 1024

void boot_params_defaults(struct boot_params *p) {
  memset(p, 0, sizeof *p);
  p->overlay = true;
  snprintf(p->hostname, sizeof p->hostname, "moat");
  snprintf(p->rwdisk, sizeof p->rwdisk, "/dev/vdb");
  p->vsock_port = DEFAULT_VSOCK_PORT;
}

static bool parse_bool(const char *key, const char *v, bool *out) {
  if (strcmp(v, "1") == 0 || strcmp(v, "yes") == 0 || strcmp(v, "true") == 0 || strcmp(v, "on") == 0) {
    *out = true;
    return true;
  }
  if (strcmp(v, "0") == 0 || strcmp(v, "no") == 0 || strcmp(v, "false") == 0 || strcmp(v, "off") == 0) {
    *out = false;
    return true;
  }
  log_warn("kernel parameter %s=%s: expected 1 or 0; ignored", key, v);
  return false;
}

static bool valid_hostname(const char *v) {
  size_t n = strlen(v);
  if (n == 0 || n > 64) return false;
  for (const char *c = v; *c; c++)
    if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
          *c == '-' || *c == '.'))
      return false;
  return true;
}

static void apply(struct boot_params *p, const char *key, const char *v) {
  if (strcmp(key, "moat.poweroff") == 0) {
    parse_bool(key, v, &p->poweroff);
  } else if (strcmp(key, "moat.debug") == 0) {
    parse_bool(key, v, &p->debug);
  } else if (strcmp(key, "moat.overlay") == 0) {
    parse_bool(key, v, &p->overlay);
  } else if (strcmp(key, "moat.hostname") == 0) {
    if (valid_hostname(v)) snprintf(p->hostname, sizeof p->hostname, "%s", v);
    else log_warn("kernel parameter moat.hostname=%s: use 1-64 of [A-Za-z0-9.-]; keeping %s", v, p->hostname);
  } else if (strcmp(key, "moat.rwdisk") == 0) {
    if (strcmp(v, "none") == 0 || (strncmp(v, "/dev/", 5) == 0 && strlen(v) < sizeof p->rwdisk))
      snprintf(p->rwdisk, sizeof p->rwdisk, "%s", v);
    else log_warn("kernel parameter moat.rwdisk=%s: use a /dev/ path or none; keeping %s", v, p->rwdisk);
  } else if (strcmp(key, "moat.clock") == 0) {
    char *end;
    long long t = strtoll(v, &end, 10);
    if (*v && !*end && t > 0) p->clock = t;
    else log_warn("kernel parameter moat.clock=%s: expected Unix seconds; ignored", v);
  } else if (strcmp(key, "moat.port") == 0) {
    char *end;
    unsigned long port = strtoul(v, &end, 10);
    if (*v && !*end && port > 0 && port < 0xffffffffUL) p->vsock_port = (uint32_t)port;
    else log_warn("kernel parameter moat.port=%s: expected a vsock port number; keeping %u", v, p->vsock_port);
  } else if (strcmp(key, "moat.shutdown") == 0) {
    if (strcmp(v, "auto") == 0) p->shutdown = SHUTDOWN_AUTO;
    else if (strcmp(v, "poweroff") == 0) p->shutdown = SHUTDOWN_POWEROFF;
    else if (strcmp(v, "reboot") == 0) p->shutdown = SHUTDOWN_REBOOT;
    else log_warn("kernel parameter moat.shutdown=%s: use poweroff, reboot or auto; using auto", v);
  } else {
    log_warn("unknown kernel parameter %s; ignored", key);
  }
}

void boot_params_parse(struct boot_params *p, const char *cmdline) {
  char word[512];
  const char *c = cmdline;
  while (*c) {
    while (*c == ' ' || *c == '\t' || *c == '\n') c++;
    if (!*c) break;
    size_t n = 0;
    bool quoted = false;
    while (*c && (quoted || (*c != ' ' && *c != '\t' && *c != '\n'))) {
      if (*c == '"') quoted = !quoted;
      else if (n + 1 < sizeof word) word[n++] = *c;
      c++;
    }
    word[n] = '\0';
    if (n < 5 || memcmp(word, "moat.", 5) != 0) continue;
    char *eq = strchr(word, '=');
    const char *value = "1";
    if (eq) {
      *eq = '\0';
      value = eq + 1;
    }
    apply(p, word, value);
  }
}
