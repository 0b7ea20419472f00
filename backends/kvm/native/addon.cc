/**
 * The @moat/backend-kvm addon entry: exports NativeMachine and probe(timeoutMs).
 *
 * probe() runs on a worker thread and resolves { code, message, elapsedMs } with code one of
 * "OK", "NO_DEVICE", "PERMISSION", "API_VERSION", "NO_GUEST_KERNEL" (KVM present but it cannot run
 * guest kernel code: nested PVM), "HV_ERROR".
 */
#include <napi.h>

#include <string>

#include "arch/x86_64/cpl0_probe.h"
#include "kvm_hypervisor.h"
#include "native_machine.h"

namespace moat::kvm {
namespace {

class ProbeWorker : public Napi::AsyncWorker {
 public:
  ProbeWorker(Napi::Env env, int timeout_ms)
      : Napi::AsyncWorker(env, "moat-kvm-probe"), deferred_(Napi::Promise::Deferred::New(env)), timeout_ms_(timeout_ms) {}
  Napi::Promise promise() { return deferred_.Promise(); }

  void Execute() override {
    try {
      KvmHypervisor hypervisor;
      auto r = arch::x86_64::run_cpl0_probe(hypervisor, timeout_ms_);
      elapsed_ms_ = r.elapsed_ms;
      if (r.ok) {
        code_ = "OK";
      } else {
        code_ = "NO_GUEST_KERNEL";
        message_ = "nested KVM without hardware virtualization: guest kernels cannot boot here (" + r.detail + ")";
      }
    } catch (const hv::HvError& e) {
      code_ = e.code();
      message_ = e.what();
    } catch (const std::exception& e) {
      code_ = "HV_ERROR";
      message_ = e.what();
    }
  }
  void OnOK() override {
    Napi::Env env = Env();
    Napi::Object o = Napi::Object::New(env);
    o.Set("code", code_);
    o.Set("message", message_);
    o.Set("elapsedMs", elapsed_ms_);
    deferred_.Resolve(o);
  }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  int timeout_ms_;
  double elapsed_ms_ = 0;
  std::string code_, message_;
};

Napi::Value probe(const Napi::CallbackInfo& info) {
  int timeout_ms = info.Length() > 0 && info[0].IsNumber() ? info[0].As<Napi::Number>().Int32Value() : 1000;
  auto* worker = new ProbeWorker(info.Env(), timeout_ms);
  worker->Queue();
  return worker->promise();
}

Napi::Object init(Napi::Env env, Napi::Object exports) {
  exports.Set("NativeMachine", NativeMachine::define(env));
  exports.Set("probe", Napi::Function::New(env, probe, "probe"));
  return exports;
}

}  // namespace
}  // namespace moat::kvm

static Napi::Object InitMoatKvm(Napi::Env env, Napi::Object exports) { return moat::kvm::init(env, exports); }

NODE_API_MODULE(moat_kvm, InitMoatKvm)
