/**
 * EventLoop: the one device I/O thread of a machine (epoll + an eventfd for wake-ups on Linux).
 *
 * Devices register file descriptors (vsock Unix sockets, listeners) with callbacks and `post()`
 * work from vCPU threads (virtio QueueNotify); everything runs on the thread that calls `run()`,
 * never on the JS thread. `add_fd`/`modify_fd`/`remove_fd`/`post` may be called from any thread; a
 * callback removed while the loop is dispatching is not called again after `remove_fd` returns on
 * the loop thread. Level-triggered: a device must drop interest it cannot serve (back-pressure).
 *
 * Port note: macOS (kqueue) and Windows (IOCP) will need their own implementation of this class.
 */
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>

namespace moat::vmm {

/** Readiness bits, OS-neutral. */
enum EventMask : uint32_t {
  kEventReadable = 1u << 0,
  kEventWritable = 1u << 1,
  kEventHangup = 1u << 2,  ///< peer hung up or error (always reported)
};

class EventLoop {
 public:
  using FdCallback = std::function<void(uint32_t events)>;
  using Task = std::function<void()>;

  /** nullptr + `error` if epoll/eventfd cannot be created. */
  static std::unique_ptr<EventLoop> create(std::string& error);
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  /** Watches `fd` for `events` (kEventReadable|kEventWritable). False + errno-based `error`. */
  bool add_fd(int fd, uint32_t events, FdCallback callback, std::string& error);
  /** Changes the interest set of a watched fd. */
  bool modify_fd(int fd, uint32_t events);
  /** Stops watching `fd` (does not close it). */
  void remove_fd(int fd);

  /** Queues `task` to run on the loop thread (wakes the loop). Thread-safe. */
  void post(Task task);

  /** Runs until `stop()`. */
  void run();
  /** Dispatches ready events and posted tasks once, waiting at most `timeout_ms` (-1 = forever). */
  void run_once(int timeout_ms);
  /** Makes `run()` return soon; thread-safe. */
  void stop();

  /** True on the thread currently inside run()/run_once(). */
  bool in_loop_thread() const { return loop_thread_.load() == std::this_thread::get_id(); }

 private:
  EventLoop(int epoll_fd, int wake_fd);
  void run_posted();

  int epoll_fd_;
  int wake_fd_;
  std::atomic<bool> stopping_{false};
  std::atomic<std::thread::id> loop_thread_{};
  std::mutex mutex_;
  std::deque<Task> posted_;
  // fd -> callback; shared_ptr so a callback can remove itself while it runs.
  std::unordered_map<int, std::shared_ptr<FdCallback>> callbacks_;
};

}  // namespace moat::vmm
