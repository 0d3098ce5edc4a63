// One translation unit compiles Catch2's runner; the test files only include catch.hpp.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
