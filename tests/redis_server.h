// A real redis-server for tests: started on a free 127.0.0.1 port, ready when it says so (systemd
// notify protocol: READY=1 on a datagram socket, no polling), killed, stopped, continued and
// restarted on the same port by the fault tests. Admin commands go over a connection of its own.
#pragma once

#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

extern char** environ;

namespace larder_test {

inline int free_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) throw std::runtime_error("bind");
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

class RedisServer {
 public:
  /// Starts redis-server on a free loopback port with `extra` config arguments.
  explicit RedisServer(std::vector<std::string> extra = {}, int port = 0)
      : port_(port ? port : free_port()), extra_(std::move(extra)) {
    char tmpl[] = "/tmp/larder-redis-XXXXXX";
    if (!mkdtemp(tmpl)) throw std::runtime_error("mkdtemp");
    dir_ = tmpl;
    start();
  }
  ~RedisServer() {
    if (detached_) return;
    kill_now();
    std::string cmd = "rm -rf '" + dir_ + "'";
    (void)!std::system(cmd.c_str());
  }
  /// Leaves the server running past this object (the ctest fixture stops it by pid).
  void detach() { detached_ = true; }
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  std::string uri() const { return "redis://127.0.0.1:" + std::to_string(port_); }

  /// SIGKILL and reap.
  void kill_now() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGCONT);
    ::kill(pid_, SIGKILL);
    int st = 0;
    waitpid(pid_, &st, 0);
    pid_ = -1;
  }
  void pause() { ::kill(pid_, SIGSTOP); }
  void resume() { ::kill(pid_, SIGCONT); }
  /// Starts again on the same port (after kill_now).
  void restart() {
    kill_now();
    start();
  }

  /// Runs one admin command (argv) and returns the reply as text ("(nil)", "(error) ...").
  std::string cmd(const std::vector<std::string>& args) {
    redisContext* c = redisConnect("127.0.0.1", port_);
    if (!c || c->err) {
      if (c) redisFree(c);
      throw std::runtime_error("admin connect failed");
    }
    std::vector<const char*> argv;
    std::vector<size_t> lens;
    for (const auto& a : args) {
      argv.push_back(a.data());
      lens.push_back(a.size());
    }
    auto* r = static_cast<redisReply*>(
        redisCommandArgv(c, static_cast<int>(argv.size()), argv.data(), lens.data()));
    std::string out = text(r);
    if (r) freeReplyObject(r);
    redisFree(c);
    return out;
  }

 private:
  static std::string text(const redisReply* r) {
    if (!r) return "(io error)";
    switch (r->type) {
      case REDIS_REPLY_STRING:
      case REDIS_REPLY_STATUS:
        return std::string(r->str, r->len);
      case REDIS_REPLY_ERROR:
        return "(error) " + std::string(r->str, r->len);
      case REDIS_REPLY_INTEGER:
        return std::to_string(r->integer);
      case REDIS_REPLY_NIL:
        return "(nil)";
      case REDIS_REPLY_ARRAY: {
        std::string s;
        for (size_t i = 0; i < r->elements; ++i) s += (i ? " " : "") + text(r->element[i]);
        return s;
      }
    }
    return "?";
  }

  void start() {
    const std::string sock = dir_ + "/notify";
    unlink(sock.c_str());
    const int nfd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strncpy(a.sun_path, sock.c_str(), sizeof a.sun_path - 1);
    if (bind(nfd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      throw std::runtime_error("bind notify socket");
    }
    timeval tv{20, 0};  // a server that never gets ready fails the test instead of hanging it
    setsockopt(nfd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);

    std::vector<std::string> args = {"redis-server",
                                     "--port",
                                     std::to_string(port_),
                                     "--bind",
                                     "127.0.0.1",
                                     "--save",
                                     "",
                                     "--appendonly",
                                     "no",
                                     "--dir",
                                     dir_,
                                     "--supervised",
                                     "systemd",
                                     "--loglevel",
                                     "warning",
                                     "--logfile",
                                     dir_ + "/redis.log"};
    args.insert(args.end(), extra_.begin(), extra_.end());
    std::vector<char*> argv;
    for (auto& s : args) argv.push_back(s.data());
    argv.push_back(nullptr);
    std::vector<std::string> env_store = {"NOTIFY_SOCKET=" + sock};
    for (char** e = environ; *e; ++e) {
      if (std::strncmp(*e, "NOTIFY_SOCKET=", 14) != 0 && std::strncmp(*e, "LD_PRELOAD=", 11) != 0) {
        env_store.emplace_back(*e);
      }
    }
    std::vector<char*> envp;
    for (auto& s : env_store) envp.push_back(s.data());
    envp.push_back(nullptr);
    // stdio to /dev/null: a server outliving the fixture process must not hold ctest's pipes.
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    for (int fd = 0; fd <= 2; ++fd) {
      posix_spawn_file_actions_addopen(&fa, fd, "/dev/null", fd == 0 ? O_RDONLY : O_WRONLY, 0);
    }
    const int rc = posix_spawnp(&pid_, "redis-server", &fa, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) {
      close(nfd);
      throw std::runtime_error("cannot start redis-server (is it installed? scripts/setup.sh)");
    }
    char buf[512];
    for (;;) {
      const ssize_t n = recv(nfd, buf, sizeof buf - 1, 0);
      if (n < 0) {
        close(nfd);
        throw std::runtime_error("redis-server did not report ready; see " + dir_ + "/redis.log");
      }
      buf[n] = 0;
      if (std::strstr(buf, "READY=1")) break;
    }
    close(nfd);
  }

  int port_;
  std::vector<std::string> extra_;
  std::string dir_;
  pid_t pid_ = -1;
  bool detached_ = false;
};

/// The port of the suite's shared server: the ctest fixture's (its port file is named by
/// LARDER_TEST_REDIS_PORT_FILE), else one started for this process (running the binary by hand).
inline int shared_redis_port() {
  if (const char* f = std::getenv("LARDER_TEST_REDIS_PORT_FILE")) {
    std::ifstream in(f);
    int port = 0;
    if (!(in >> port) || port <= 0) {
      throw std::runtime_error(std::string("no port in ") + f + " (did redis:start run?)");
    }
    return port;
  }
  static RedisServer server;
  return server.port();
}

}  // namespace larder_test
