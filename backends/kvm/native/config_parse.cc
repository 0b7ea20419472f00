/** Native config object → MachineConfig (see config_parse.h). */
#include "config_parse.h"

#include <cmath>

namespace moat::kvm {
namespace {

[[noreturn]] void bad(const Napi::Env& env, const std::string& field, const std::string& want) {
  throw Napi::TypeError::New(env, "native machine config: " + field + " must be " + want);
}

std::string get_string(const Napi::Object& o, const char* key, const std::string& field, bool required) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined() && !required) return "";
  if (!v.IsString()) bad(o.Env(), field, "a string");
  return v.As<Napi::String>().Utf8Value();
}

uint64_t get_uint(const Napi::Object& o, const char* key, const std::string& field, uint64_t fallback, bool required) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined() && !required) return fallback;
  if (!v.IsNumber()) bad(o.Env(), field, "a non-negative integer");
  double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= 0) || std::floor(d) != d || d > 9007199254740991.0) bad(o.Env(), field, "a non-negative integer");
  return static_cast<uint64_t>(d);
}

bool get_bool(const Napi::Object& o, const char* key, const std::string& field, bool fallback) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined()) return fallback;
  if (!v.IsBoolean()) bad(o.Env(), field, "a boolean");
  return v.As<Napi::Boolean>().Value();
}

Napi::Object get_object(const Napi::Object& o, const char* key, const std::string& field) {
  Napi::Value v = o.Get(key);
  if (!v.IsObject() || v.IsArray()) bad(o.Env(), field, "an object");
  return v.As<Napi::Object>();
}

}  // namespace

machine::MachineConfig parse_machine_config(const Napi::Object& o) {
  machine::MachineConfig c;
  c.vcpus = static_cast<uint32_t>(get_uint(o, "vcpus", "vcpus", 1, true));
  c.memory_bytes = get_uint(o, "memoryBytes", "memoryBytes", 0, true);
  if (!o.Get("kernel").IsUndefined()) {
    auto k = get_object(o, "kernel", "kernel");
    c.kernel = machine::KernelConfig{get_string(k, "path", "kernel.path", true),
                                     get_string(k, "cmdline", "kernel.cmdline", false),
                                     get_string(k, "initrd", "kernel.initrd", false)};
  }
  if (!o.Get("testPayload").IsUndefined()) {
    auto t = get_object(o, "testPayload", "testPayload");
    c.test_payload = machine::TestPayloadConfig{get_string(t, "path", "testPayload.path", true),
                                                get_string(t, "args", "testPayload.args", false)};
  }
  if (!o.Get("disks").IsUndefined()) {
    Napi::Value v = o.Get("disks");
    if (!v.IsArray()) bad(o.Env(), "disks", "an array");
    auto disks = v.As<Napi::Array>();
    for (uint32_t i = 0; i < disks.Length(); ++i) {
      const std::string field = "disks[" + std::to_string(i) + "]";
      Napi::Value d = disks.Get(i);
      if (!d.IsObject()) bad(o.Env(), field, "an object");
      auto disk = d.As<Napi::Object>();
      c.disks.push_back({get_string(disk, "path", field + ".path", true),
                         get_bool(disk, "readOnly", field + ".readOnly", false)});
    }
  }
  if (!o.Get("vsock").IsUndefined()) {
    auto v = get_object(o, "vsock", "vsock");
    c.vsock = machine::VsockConfig{get_uint(v, "guestCid", "vsock.guestCid", 3, true),
                                   get_string(v, "udsPath", "vsock.udsPath", true)};
  }
  c.rng = get_bool(o, "rng", "rng", true);
  c.console_path = get_string(o, "consolePath", "consolePath", false);
  c.console_events = get_bool(o, "consoleEvents", "consoleEvents", false);
  return c;
}

}  // namespace moat::kvm
