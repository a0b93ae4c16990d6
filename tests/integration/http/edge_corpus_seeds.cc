// Writes every corpus case (edge_cases.cc) as one file of the bytes a client sends, named
// after its id: the seeds of the request-head fuzz target. Usage: edge_corpus_seeds DIR
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "edge_cases.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s DIR\n", argv[0]);
    return 2;
  }
  const std::filesystem::path dir = argv[1];
  std::filesystem::create_directories(dir);
  int n = 0;
  for (const auto& c : tether::testing::edgeCases("127.0.0.1:8080")) {
    std::ofstream out(dir / ("edge-" + c.id), std::ios::binary);
    for (const auto& s : c.segments) out << s;
    ++n;
  }
  std::printf("%d seeds in %s\n", n, dir.c_str());
  return 0;
}
