// Thread records and epoch advancing for detail/epoch.h.
#include "larder/detail/epoch.h"

namespace larder::detail {
namespace {

std::atomic<EpochRecord*> g_records{nullptr};
thread_local bool t_owner_gone =
    false;  // trivially destructible: readable after thread_local dtors

/// Releases the thread's record when the thread exits.
struct RecordOwner {
  EpochRecord* rec = nullptr;
  ~RecordOwner() {
    if (!rec) return;
    rec->active.store(0, std::memory_order_release);
    rec->in_use.store(false, std::memory_order_release);
    t_epoch_record = nullptr;
    t_owner_gone = true;
  }
};

}  // namespace

EpochRecord* register_epoch_thread() {
  static thread_local RecordOwner owner;
  EpochRecord* rec = nullptr;
  for (EpochRecord* r = g_records.load(std::memory_order_acquire); r; r = r->next) {
    bool expected = false;
    if (!r->in_use.load(std::memory_order_relaxed) &&
        r->in_use.compare_exchange_strong(expected, true, std::memory_order_acquire)) {
      rec = r;
      break;
    }
  }
  if (!rec) {
    static std::atomic<std::uint32_t> next_id{0};
    rec = new EpochRecord;  // lives for the process (reachable from g_records)
    rec->id = next_id.fetch_add(1, std::memory_order_relaxed);
    rec->in_use.store(true, std::memory_order_relaxed);
    EpochRecord* head = g_records.load(std::memory_order_relaxed);
    do {
      rec->next = head;
    } while (!g_records.compare_exchange_weak(head, rec, std::memory_order_release,
                                              std::memory_order_relaxed));
  }
  // A read from a later thread_local destructor: the record stays owned (never reused).
  if (!t_owner_gone) owner.rec = rec;
  t_epoch_record = rec;
  t_thread_id = rec->id;
  return rec;
}

std::uint64_t try_advance_epoch() noexcept {
  std::uint64_t e = g_epoch.load(std::memory_order_seq_cst);
  for (EpochRecord* r = g_records.load(std::memory_order_acquire); r; r = r->next) {
    const std::uint64_t a = r->active.load(std::memory_order_seq_cst);
    if (a != 0 && a != e) return e;
  }
  g_epoch.compare_exchange_strong(e, e + 1, std::memory_order_seq_cst);
  return g_epoch.load(std::memory_order_seq_cst);
}

}  // namespace larder::detail
