// Decodes every tensor of a .vbq file and prints "NAME COUNT" per tensor.
// usage: vbq_consumer FILE.vbq
#include <cstdio>
#include <exception>

#include "formats/container.hpp"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s FILE.vbq\n", argv[0]);
    return 1;
  }
  try {
    const vbq::Container c = vbq::read_container(argv[1]);
    for (const vbq::EncodedTensor& t : c.tensors) {
      const std::vector<double> values = vbq::decode_tensor(t);
      std::printf("%s %zu\n", t.name.c_str(), values.size());
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: %s\n", argv[1], e.what());
    return 1;
  }
  return 0;
}
