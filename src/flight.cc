// The wait-for registry behind LoaderCycle: see include/larder/detail/flight.h.

#include "larder/detail/flight.h"

#include <mutex>
#include <thread>
#include <unordered_map>

namespace larder::detail {
namespace {

struct Registry {
  std::mutex mu;
  // thread -> the flight it is waiting on. A waiting thread holds a reference to its flight, so
  // every pointer here is alive while it is here.
  std::unordered_map<std::thread::id, const FlightBase*> waiting_on;
};

Registry& registry() {
  static Registry* r = new Registry;  // never destroyed: loads may run during static destruction
  return *r;
}

}  // namespace

void FlightBase::lead_here() {
  std::lock_guard<std::mutex> lock(registry().mu);
  leader_ = std::this_thread::get_id();
}

void FlightBase::finish() noexcept {
  std::lock_guard<std::mutex> lock(registry().mu);
  leader_ = std::thread::id();
}

void begin_wait(const FlightBase& target) {
  Registry& r = registry();
  const std::thread::id me = std::this_thread::get_id();
  std::lock_guard<std::mutex> lock(r.mu);
  const FlightBase* f = &target;
  // Each step moves to another thread; a chain longer than the number of waiting threads would
  // already have repeated a thread, so the walk ends.
  for (std::size_t steps = 0; steps <= r.waiting_on.size(); ++steps) {
    const std::thread::id leader = f->leader_;
    if (leader == me) {
      throw LoaderCycle(
          "larder: a loader waited for a load its own thread is performing (it called the same "
          "cache or memoized function for the same key, directly or through other keys); "
          "refusing to deadlock");
    }
    auto it = r.waiting_on.find(leader);
    if (it == r.waiting_on.end()) break;
    f = it->second;
  }
  r.waiting_on[me] = &target;
}

void end_wait() noexcept {
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mu);
  r.waiting_on.erase(std::this_thread::get_id());
}

bool is_waiting(std::thread::id t) {
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mu);
  return r.waiting_on.contains(t);
}

}  // namespace larder::detail
