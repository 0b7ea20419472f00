/** NativeMachine (see native_machine.h): workers for the blocking steps, a TSFN for events. */
#include "native_machine.h"

#include <functional>
#include <string>
#include <vector>

#include "config_parse.h"

namespace moat::kvm {

/** What both the JS object and the machine threads hold: outlives either. */
struct NativeMachine::Shared {
  machine::MachineConfig config;
  Napi::ThreadSafeFunction events;
  std::mutex mutex;
  bool events_released = false;
  std::unique_ptr<KvmHypervisor> hypervisor;
  std::unique_ptr<machine::Machine> machine;
  bool starting = false;
  /** kill() before the machine existed (start() still building it): kill it as soon as it runs. */
  bool kill_requested = false;
};

namespace {

struct Event {
  std::string type;
  std::vector<uint8_t> data;
  machine::MachineExit exit;
};

Napi::Error to_js_error(Napi::Env env, const std::string& message, const std::string& code) {
  Napi::Error e = Napi::Error::New(env, message);
  e.Set("code", Napi::String::New(env, code));
  return e;
}

/** Runs `work` on the libuv thread pool and settles a promise with `done`'s value or the error. */
class PromiseWorker : public Napi::AsyncWorker {
 public:
  using Work = std::function<void()>;
  using Done = std::function<Napi::Value(Napi::Env)>;
  PromiseWorker(Napi::Env env, Work work, Done done)
      : Napi::AsyncWorker(env, "moat-kvm"), deferred_(Napi::Promise::Deferred::New(env)),
        work_(std::move(work)), done_(std::move(done)) {}
  Napi::Promise promise() { return deferred_.Promise(); }

  void Execute() override {
    try {
      work_();
    } catch (const machine::MachineError& e) {
      fail(e.what(), "MACHINE_CONFIG");
    } catch (const hv::HvError& e) {
      fail(e.what(), e.code());
    } catch (const std::exception& e) {
      fail(e.what(), "INTERNAL");
    }
  }
  void OnOK() override {
    Napi::Env env = Env();
    if (!code_.empty()) {
      deferred_.Reject(to_js_error(env, message_, code_).Value());
      return;
    }
    try {
      deferred_.Resolve(done_ ? done_(env) : env.Undefined());
    } catch (const Napi::Error& e) {
      deferred_.Reject(e.Value());
    }
  }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  void fail(const std::string& message, const std::string& code) {
    message_ = message;
    code_ = code;
  }
  Napi::Promise::Deferred deferred_;
  Work work_;
  Done done_;
  std::string message_, code_;
};

}  // namespace

Napi::Function NativeMachine::define(Napi::Env env) {
  return DefineClass(env, "NativeMachine",
                     {InstanceMethod<&NativeMachine::start>("start"),
                      InstanceMethod<&NativeMachine::pause>("pause"),
                      InstanceMethod<&NativeMachine::resume>("resume"),
                      InstanceMethod<&NativeMachine::kill>("kill"),
                      InstanceMethod<&NativeMachine::close>("close"),
                      InstanceMethod<&NativeMachine::guest_resident_bytes>("guestResidentBytes")});
}

NativeMachine::NativeMachine(const Napi::CallbackInfo& info) : Napi::ObjectWrap<NativeMachine>(info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsObject() || !info[1].IsFunction())
    throw Napi::TypeError::New(env, "NativeMachine(config: object, onEvent: function)");
  shared_ = std::make_shared<Shared>();
  shared_->config = parse_machine_config(info[0].As<Napi::Object>());
  auto shared = shared_;
  shared_->events = Napi::ThreadSafeFunction::New(env, info[1].As<Napi::Function>(), "moat-kvm-events", 0, 1);
  shared_->events.Unref(env);  // referenced only while the machine runs
}

NativeMachine::~NativeMachine() {
  // GC of a machine that was never closed: end it; the join is short once vCPUs are kicked.
  if (shared_) {
    std::unique_ptr<machine::Machine> m;
    {
      std::lock_guard lock(shared_->mutex);
      m = std::move(shared_->machine);
    }
    m.reset();
  }
}

void NativeMachine::release_events() {
  std::lock_guard lock(shared_->mutex);
  if (!shared_->events_released) {
    shared_->events_released = true;
    shared_->events.Release();
  }
}

Napi::Value NativeMachine::start(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto shared = shared_;
  {
    std::lock_guard lock(shared->mutex);
    if (shared->starting || shared->events_released)
      throw to_js_error(env, "machine already started", "INVALID_STATE");
    shared->starting = true;
  }
  shared->events.Ref(env);

  auto deliver = [shared](Event* event) {
    napi_status status = shared->events.NonBlockingCall(event, [](Napi::Env env, Napi::Function fn, Event* e) {
      Napi::Object o = Napi::Object::New(env);
      o.Set("type", e->type);
      if (e->type == "console") {
        o.Set("data", Napi::Buffer<uint8_t>::Copy(env, e->data.data(), e->data.size()));
      } else {
        o.Set("reason", e->exit.reason);
        o.Set("status", Napi::Number::New(env, e->exit.status));
        o.Set("detail", e->exit.detail);
      }
      delete e;
      fn.Call({o});
    });
    if (status != napi_ok) delete event;
  };

  machine::MachineEvents events;
  events.console = [deliver](std::span<const uint8_t> bytes) {
    auto* e = new Event{"console", std::vector<uint8_t>(bytes.begin(), bytes.end()), {}};
    deliver(e);
  };
  events.exited = [deliver, shared](const machine::MachineExit& exit) {
    auto* e = new Event{"exit", {}, exit};
    deliver(e);
    std::lock_guard lock(shared->mutex);
    if (!shared->events_released) {
      shared->events_released = true;
      shared->events.Release();
    }
  };

  auto* worker = new PromiseWorker(
      env,
      [shared, events] {
        auto hypervisor = std::make_unique<KvmHypervisor>();
        auto m = machine::Machine::create(*hypervisor, shared->config, events);
        m->start();
        std::lock_guard lock(shared->mutex);
        shared->hypervisor = std::move(hypervisor);
        shared->machine = std::move(m);
        if (shared->kill_requested) shared->machine->kill();
      },
      [shared](Napi::Env env) -> Napi::Value {
        Napi::Object result = Napi::Object::New(env);
        std::lock_guard lock(shared->mutex);
        if (!shared->machine) return result;
        result.Set("cmdline", shared->machine->cmdline());
        Napi::Array devices = Napi::Array::New(env);
        uint32_t i = 0;
        for (const auto& d : shared->machine->devices()) {
          Napi::Object o = Napi::Object::New(env);
          o.Set("kind", d.kind);
          o.Set("mmioBase", Napi::Number::New(env, static_cast<double>(d.mmio_base)));
          o.Set("irq", Napi::Number::New(env, d.irq));
          devices.Set(i++, o);
        }
        result.Set("devices", devices);
        return result;
      });
  Napi::Promise promise = worker->promise();
  // A failed start produced no machine and so no exit event: release the events function.
  Napi::Function on_settled = Napi::Function::New(env, [shared](const Napi::CallbackInfo&) {
    std::lock_guard lock(shared->mutex);
    if (!shared->machine && !shared->events_released) {
      shared->events_released = true;
      shared->events.Release();
    }
  });
  promise.Get("then").As<Napi::Function>().Call(promise, {on_settled, on_settled});
  worker->Queue();
  return promise;
}

Napi::Value NativeMachine::pause(const Napi::CallbackInfo& info) {
  auto shared = shared_;
  auto* worker = new PromiseWorker(
      info.Env(),
      [shared] {
        std::lock_guard lock(shared->mutex);  // held while parking: start/close cannot interleave
        if (shared->machine) shared->machine->pause();
      },
      nullptr);
  worker->Queue();
  return worker->promise();
}

Napi::Value NativeMachine::resume(const Napi::CallbackInfo& info) {
  std::lock_guard lock(shared_->mutex);
  if (shared_->machine) shared_->machine->resume();
  return info.Env().Undefined();
}

Napi::Value NativeMachine::kill(const Napi::CallbackInfo& info) {
  std::lock_guard lock(shared_->mutex);
  shared_->kill_requested = true;
  if (shared_->machine) shared_->machine->kill();
  return info.Env().Undefined();
}

Napi::Value NativeMachine::close(const Napi::CallbackInfo& info) {
  auto shared = shared_;
  auto* worker = new PromiseWorker(
      info.Env(),
      [shared] {
        std::unique_ptr<machine::Machine> m;
        {
          std::lock_guard lock(shared->mutex);
          m = std::move(shared->machine);
        }
        m.reset();  // kills if still running, joins threads, unmaps guest memory
      },
      nullptr);
  worker->Queue();
  return worker->promise();
}

Napi::Value NativeMachine::guest_resident_bytes(const Napi::CallbackInfo& info) {
  auto shared = shared_;
  auto bytes = std::make_shared<uint64_t>(0);
  auto* worker = new PromiseWorker(
      info.Env(),
      [shared, bytes] {  // a page-table walk over all of guest RAM: off the JS thread
        std::lock_guard lock(shared->mutex);
        if (shared->machine) *bytes = shared->machine->guest_resident_bytes();
      },
      [bytes](Napi::Env env) -> Napi::Value { return Napi::Number::New(env, static_cast<double>(*bytes)); });
  worker->Queue();
  return worker->promise();
}

}  // namespace moat::kvm
