// ctest fixture: `redis_fixture start DIR` starts the suite's shared redis-server on a free
// loopback port and writes DIR/port and DIR/pid; `redis_fixture stop DIR` kills it.
#include <signal.h>
#include <sys/stat.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "redis_server.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: redis_fixture start|stop DIR\n");
    return 2;
  }
  const std::string what = argv[1], dir = argv[2];
  mkdir(dir.c_str(), 0755);
  if (what == "start") {
    larder_test::RedisServer server;
    server.detach();
    std::ofstream(dir + "/port") << server.port() << '\n';
    std::ofstream(dir + "/pid") << server.pid() << '\n';
    std::printf("redis-server pid %d on 127.0.0.1:%d\n", static_cast<int>(server.pid()),
                server.port());
    return 0;
  }
  if (what == "stop") {
    std::ifstream in(dir + "/pid");
    int pid = 0;
    if (!(in >> pid) || pid <= 0) return 1;
    kill(pid, SIGKILL);
    std::remove((dir + "/port").c_str());
    std::remove((dir + "/pid").c_str());
    std::printf("stopped redis-server pid %d\n", pid);
    return 0;
  }
  return 2;
}
