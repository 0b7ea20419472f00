/**
 * EventLoop on Linux: epoll (level-triggered) plus an eventfd that `post()` and `stop()` write to
 * wake the loop. Callbacks are looked up at dispatch time, so one removed by an earlier callback
 * in the same batch is skipped.
 */
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "event/event_loop.h"

namespace moat::vmm {
namespace {
uint32_t to_epoll(uint32_t events) {
  uint32_t e = 0;
  if (events & kEventReadable) e |= EPOLLIN;
  if (events & kEventWritable) e |= EPOLLOUT;
  return e;
}
uint32_t from_epoll(uint32_t e) {
  uint32_t events = 0;
  if (e & EPOLLIN) events |= kEventReadable;
  if (e & EPOLLOUT) events |= kEventWritable;
  if (e & (EPOLLHUP | EPOLLERR | EPOLLRDHUP)) events |= kEventHangup;
  return events;
}
}  // namespace

std::unique_ptr<EventLoop> EventLoop::create(std::string& error) {
  int epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd < 0) {
    error = std::string("event loop: epoll_create1 failed: ") + std::strerror(errno);
    return nullptr;
  }
  int wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake_fd < 0) {
    error = std::string("event loop: eventfd failed: ") + std::strerror(errno);
    close(epoll_fd);
    return nullptr;
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = wake_fd;
  if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, wake_fd, &ev) != 0) {
    error = std::string("event loop: epoll_ctl failed: ") + std::strerror(errno);
    close(wake_fd);
    close(epoll_fd);
    return nullptr;
  }
  return std::unique_ptr<EventLoop>(new EventLoop(epoll_fd, wake_fd));
}

EventLoop::EventLoop(int epoll_fd, int wake_fd) : epoll_fd_(epoll_fd), wake_fd_(wake_fd) {}

EventLoop::~EventLoop() {
  close(wake_fd_);
  close(epoll_fd_);
}

bool EventLoop::add_fd(int fd, uint32_t events, FdCallback callback, std::string& error) {
  {
    std::lock_guard lock(mutex_);
    callbacks_[fd] = std::make_shared<FdCallback>(std::move(callback));
  }
  epoll_event ev{};
  ev.events = to_epoll(events);
  ev.data.fd = fd;
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
    error = "event loop: cannot watch fd " + std::to_string(fd) + ": " + std::strerror(errno);
    std::lock_guard lock(mutex_);
    callbacks_.erase(fd);
    return false;
  }
  return true;
}

bool EventLoop::modify_fd(int fd, uint32_t events) {
  epoll_event ev{};
  ev.events = to_epoll(events);
  ev.data.fd = fd;
  return epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &ev) == 0;
}

void EventLoop::remove_fd(int fd) {
  epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
  std::lock_guard lock(mutex_);
  callbacks_.erase(fd);
}

void EventLoop::post(Task task) {
  {
    std::lock_guard lock(mutex_);
    posted_.push_back(std::move(task));
  }
  uint64_t one = 1;
  [[maybe_unused]] ssize_t n = ::write(wake_fd_, &one, sizeof one);
}

void EventLoop::stop() {
  stopping_ = true;
  uint64_t one = 1;
  [[maybe_unused]] ssize_t n = ::write(wake_fd_, &one, sizeof one);
}

void EventLoop::run_posted() {
  std::deque<Task> tasks;
  {
    std::lock_guard lock(mutex_);
    tasks.swap(posted_);
  }
  for (auto& task : tasks) task();
}

void EventLoop::run_once(int timeout_ms) {
  auto previous = loop_thread_.exchange(std::this_thread::get_id());
  epoll_event events[64];
  int n = epoll_wait(epoll_fd_, events, 64, timeout_ms);
  for (int i = 0; i < n; ++i) {
    int fd = events[i].data.fd;
    if (fd == wake_fd_) {
      uint64_t value;
      [[maybe_unused]] ssize_t r = ::read(wake_fd_, &value, sizeof value);
      continue;
    }
    std::shared_ptr<FdCallback> callback;
    {
      std::lock_guard lock(mutex_);
      auto it = callbacks_.find(fd);
      if (it != callbacks_.end()) callback = it->second;
    }
    if (callback) (*callback)(from_epoll(events[i].events));
  }
  run_posted();
  loop_thread_ = previous;
}

void EventLoop::run() {
  while (!stopping_) run_once(-1);
  run_posted();
}

}  // namespace moat::vmm
