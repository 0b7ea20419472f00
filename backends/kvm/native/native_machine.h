/**
 * NativeMachine: the JS handle of one machine::Machine (N-API ObjectWrap).
 *
 *   new NativeMachine(config, onEvent)   config: see README.md; onEvent(event) receives
 *       { type: "console", data: Buffer } and, exactly once, { type: "exit", reason, status, detail }
 *   start(): Promise<{ cmdline, devices }>  builds the VM on a worker thread, then starts its threads
 *   pause(): Promise<void>  resume(): void  kill(): void (the exit event follows)
 *   close(): Promise<void>  after the exit event: joins the machine's threads and frees guest memory
 *   guestResidentBytes(): Promise<number>  guest RAM resident on the host (0 before start/after close)
 *
 * Events cross from machine threads to JS through one ThreadSafeFunction; the JS thread never
 * blocks on the machine. C++ exceptions never cross into N-API: each entry point converts them.
 */
#pragma once

#include <napi.h>

#include <memory>
#include <mutex>

#include "kvm_hypervisor.h"
#include "machine/machine.h"

namespace moat::kvm {

class NativeMachine : public Napi::ObjectWrap<NativeMachine> {
 public:
  static Napi::Function define(Napi::Env env);
  explicit NativeMachine(const Napi::CallbackInfo& info);
  ~NativeMachine() override;

 private:
  Napi::Value start(const Napi::CallbackInfo& info);
  Napi::Value pause(const Napi::CallbackInfo& info);
  Napi::Value resume(const Napi::CallbackInfo& info);
  Napi::Value kill(const Napi::CallbackInfo& info);
  Napi::Value close(const Napi::CallbackInfo& info);
  Napi::Value guest_resident_bytes(const Napi::CallbackInfo& info);
  void release_events();

  struct Shared;
  std::shared_ptr<Shared> shared_;
};

}  // namespace moat::kvm
