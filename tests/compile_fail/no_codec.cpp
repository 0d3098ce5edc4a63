// Must NOT compile: encoding a type without a larder::Codec. The test checks that the compiler
// says so in words ("no larder::Codec"), not with a template wall.
#include <string>

#include "larder/codec.h"

struct NoCodec {
  std::string s;
};

int main() { return static_cast<int>(larder::encode(NoCodec{}).size()); }
