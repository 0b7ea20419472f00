/** T0: EventLoop — posted tasks, fd readiness, interest changes and removal, cross-thread stop. */
#include <doctest/doctest.h>

#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "event/event_loop.h"

using namespace moat::vmm;

TEST_CASE("EventLoop: posted tasks run on the loop thread") {
  std::string error;
  auto loop = EventLoop::create(error);
  REQUIRE(loop);
  bool ran = false, in_loop = false;
  loop->post([&] {
    ran = true;
    in_loop = loop->in_loop_thread();
  });
  CHECK_FALSE(ran);
  loop->run_once(0);
  CHECK(ran);
  CHECK(in_loop);
  CHECK_FALSE(loop->in_loop_thread());
}

TEST_CASE("EventLoop: fd readiness follows the interest set and stops after remove_fd") {
  std::string error;
  auto loop = EventLoop::create(error);
  int fds[2];
  REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds) == 0);
  int readable = 0, writable = 0;
  REQUIRE(loop->add_fd(fds[0], kEventReadable, [&](uint32_t ev) {
    if (ev & kEventReadable) ++readable;
    if (ev & kEventWritable) ++writable;
  }, error));
  loop->run_once(0);
  CHECK(readable == 0);
  REQUIRE(write(fds[1], "x", 1) == 1);
  loop->run_once(100);
  CHECK(readable == 1);
  loop->run_once(0);
  CHECK(readable == 2);  // level-triggered: still readable
  CHECK(loop->modify_fd(fds[0], kEventWritable));
  loop->run_once(0);
  CHECK(readable == 2);
  CHECK(writable == 1);
  loop->remove_fd(fds[0]);
  loop->run_once(0);
  CHECK(writable == 1);
  CHECK_FALSE(loop->add_fd(-1, kEventReadable, [](uint32_t) {}, error));
  CHECK(error.find("fd -1") != std::string::npos);
  close(fds[0]);
  close(fds[1]);
}

TEST_CASE("EventLoop: run() on its own thread returns after stop() from another thread") {
  std::string error;
  auto loop = EventLoop::create(error);
  std::atomic<int> count{0};
  std::thread t([&] { loop->run(); });
  for (int i = 0; i < 100; ++i) loop->post([&] { ++count; });
  loop->post([&] { loop->stop(); });
  t.join();
  CHECK(count.load() == 100);
}
