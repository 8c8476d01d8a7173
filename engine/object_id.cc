#include "engine/object_id.h"

#include <cstdio>
#include <random>

namespace nums::engine {

std::string ObjectId::ToString() const {
  char buf[33];
  std::snprintf(buf, sizeof buf, "%016llx%016llx", static_cast<unsigned long long>(hi),
                static_cast<unsigned long long>(lo));
  return buf;
}

ObjectIdGenerator::ObjectIdGenerator(uint64_t session) : session_(session) {
  if (session_ == 0) {
    std::random_device rd;
    while (session_ == 0) session_ = (static_cast<uint64_t>(rd()) << 32) ^ rd();
  }
}

}  // namespace nums::engine
