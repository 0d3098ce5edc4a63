// Tag index of one shard (larder::detail): tag -> the slots carrying it, and slot -> its tags.
//
// Only tagged entries cost anything here (untagged puts never touch it). invalidate_tag(t) is
// O(entries tagged t) per shard, not a scan.
#pragma once

#include <absl/container/flat_hash_map.h>
#include <absl/container/flat_hash_set.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace larder::detail {

class TagIndex {
 public:
  /// Records that slot `i` carries `tags` (replacing nothing: call remove() first if needed).
  void add(std::uint32_t i, std::vector<std::string> tags) {
    for (const std::string& t : tags) by_tag_[t].insert(i);
    tags_of_[i] = std::move(tags);
  }
  /// Forgets slot `i`'s tags.
  void remove(std::uint32_t i) {
    auto it = tags_of_.find(i);
    if (it == tags_of_.end()) return;
    for (const std::string& t : it->second) {
      auto bt = by_tag_.find(t);
      if (bt == by_tag_.end()) continue;
      bt->second.erase(i);
      if (bt->second.empty()) by_tag_.erase(bt);
    }
    tags_of_.erase(it);
  }
  /// The slots carrying `tag` (a copy: the caller removes them).
  std::vector<std::uint32_t> slots_with(std::string_view tag) const {
    // Debian builds abseil with its own string_view, not std::string_view.
    auto it = by_tag_.find(absl::string_view(tag.data(), tag.size()));
    if (it == by_tag_.end()) return {};
    return {it->second.begin(), it->second.end()};
  }
  void reset() {
    by_tag_.clear();
    tags_of_.clear();
  }

 private:
  absl::flat_hash_map<std::string, absl::flat_hash_set<std::uint32_t>> by_tag_;
  absl::flat_hash_map<std::uint32_t, std::vector<std::string>> tags_of_;
};

}  // namespace larder::detail
