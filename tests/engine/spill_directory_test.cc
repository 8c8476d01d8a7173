#include "engine/spill_directory.h"

#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "nums/errors.hpp"

namespace nums::engine {
namespace {

using Piece = SpillDirectory::Piece;

bool Exists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

/// Names in dir, "." and ".." left out.
std::set<std::string> List(const std::string& dir) {
  std::set<std::string> names;
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return names;
  while (const dirent* e = readdir(d)) {
    const std::string n = e->d_name;
    if (n != "." && n != "..") names.insert(n);
  }
  closedir(d);
  return names;
}

void Touch(const std::string& path, const std::string& content = "junk") {
  std::ofstream(path) << content;
}

std::vector<char> Pattern(int64_t n, int seed) {
  std::vector<char> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[i] = static_cast<char>((i * 131 + seed * 17 + i / 4099) & 0xff);
  return v;
}

std::vector<char> ReadAll(const SpillLocation& loc) {
  std::vector<char> v(static_cast<size_t>(loc.nbytes));
  loc.Read(0, loc.nbytes, v.data());
  return v;
}

class SpillDirectoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = ::testing::TempDir() + "/spill_test_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr) << std::strerror(errno);
    tmp_ = tmpl;
    root_ = tmp_ + "/spill";  // created by SpillDirectory, parents too
  }
  void TearDown() override { std::filesystem::remove_all(tmp_); }

  std::string tmp_;
  std::string root_;
};

TEST_F(SpillDirectoryTest, WritesPiecesAndReadsThemBack) {
  SpillDirectory dir(root_, "node0");
  EXPECT_EQ(dir.path(), root_ + "/node0");
  struct stat st;
  ASSERT_EQ(stat(dir.path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  const auto a = Pattern(1000, 1), c = Pattern(5000, 3);
  const Piece pieces[] = {{a.data(), 1000}, {nullptr, 0}, {c.data(), 5000}};
  const std::vector<SpillLocation> locs = dir.Write(pieces);
  ASSERT_EQ(locs.size(), 3u);
  EXPECT_EQ(locs[0].nbytes, 1000);
  EXPECT_EQ(locs[1].nbytes, 0);
  EXPECT_EQ(locs[2].nbytes, 5000);
  ASSERT_NE(locs[0].file, nullptr);
  EXPECT_EQ(locs[0].file, locs[2].file) << "one file per Write";
  EXPECT_EQ(locs[0].file->bytes(), 6000);
  ASSERT_EQ(stat(locs[0].file->path().c_str(), &st), 0);
  EXPECT_EQ(st.st_size, 6000);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(ReadAll(locs[0]), a);
  EXPECT_EQ(ReadAll(locs[2]), c);
  char none = 'x';
  locs[1].Read(0, 0, &none);
  EXPECT_EQ(none, 'x');
  std::vector<char> sub(700);
  locs[2].Read(4000, 700, sub.data());
  EXPECT_EQ(sub, std::vector<char>(c.begin() + 4000, c.begin() + 4700));
  EXPECT_EQ(dir.files(), 1);
  EXPECT_EQ(dir.bytes_on_disk(), 6000);
  EXPECT_EQ(dir.bytes_written(), 6000);
  EXPECT_EQ(dir.bytes_read(), 1000 + 5000 + 700);
  EXPECT_EQ(List(dir.path()), (std::set<std::string>{".lock", "spill-0.bin"}));
}

TEST_F(SpillDirectoryTest, FileIsDeletedWithItsLastLocation) {
  SpillDirectory dir(root_, "n");
  const auto a = Pattern(300, 1), b = Pattern(400, 2);
  const Piece pieces[] = {{a.data(), 300}, {b.data(), 400}};
  std::vector<SpillLocation> locs = dir.Write(pieces);
  const std::string path = locs[0].file->path();
  const auto b2 = dir.Write(std::vector<Piece>{{b.data(), 400}});
  EXPECT_EQ(dir.files(), 2);
  EXPECT_EQ(dir.bytes_on_disk(), 1100);
  locs[0] = SpillLocation{};
  EXPECT_TRUE(Exists(path)) << "the second piece still refers to it";
  EXPECT_EQ(ReadAll(locs[1]), b);
  locs.clear();
  EXPECT_FALSE(Exists(path));
  EXPECT_EQ(dir.files(), 1);
  EXPECT_EQ(dir.bytes_on_disk(), 400);
  EXPECT_EQ(dir.bytes_written(), 1100) << "monotonic";
}

TEST_F(SpillDirectoryTest, CountersBackToZeroAndEmptyBatchesMakeNoFile) {
  SpillDirectory dir(root_, "n");
  const auto a = Pattern(10, 1);
  {
    const auto locs = dir.Write(std::vector<Piece>{{a.data(), 10}});
    EXPECT_EQ(dir.files(), 1);
  }
  EXPECT_EQ(dir.files(), 0);
  EXPECT_EQ(dir.bytes_on_disk(), 0);
  const auto empty = dir.Write(std::vector<Piece>{{nullptr, 0}, {a.data(), 0}});
  ASSERT_EQ(empty.size(), 2u);
  EXPECT_EQ(empty[0].nbytes, 0);
  EXPECT_EQ(dir.files(), 0);
  EXPECT_EQ(List(dir.path()), std::set<std::string>{".lock"});
  EXPECT_TRUE(dir.Write({}).empty());
  EXPECT_THROW(dir.Write(std::vector<Piece>{{a.data(), -1}}), ValueError);
  EXPECT_THROW(dir.Write(std::vector<Piece>{{nullptr, 5}}), ValueError);
}

TEST_F(SpillDirectoryTest, SecondOwnerOfTheSameDirectoryIsRefused) {
  auto first = std::make_unique<SpillDirectory>(root_, "n");
  try {
    SpillDirectory second(root_, "n");
    FAIL() << "a second SpillDirectory on a held directory was created";
  } catch (const IOError& e) {
    EXPECT_NE(std::string(e.what()).find("in use"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(root_ + "/n"), std::string::npos) << e.what();
  }
  // flock locks belong to the open file description: another open in this process conflicts.
  const int fd = open((root_ + "/n/.lock").c_str(), O_RDWR);
  ASSERT_GE(fd, 0);
  EXPECT_NE(flock(fd, LOCK_EX | LOCK_NB), 0);
  EXPECT_EQ(errno, EWOULDBLOCK);
  first.reset();
  EXPECT_EQ(flock(fd, LOCK_EX | LOCK_NB), 0) << "released by the destructor";
  close(fd);
  SpillDirectory third(root_, "n");  // free again
  EXPECT_TRUE(Exists(root_ + "/n/.lock"));
}

TEST_F(SpillDirectoryTest, StaleFilesAndStaleSiblingsAreRemovedAtStart) {
  // First the live node: its own start would already sweep the stale state made below.
  SpillDirectory alive(root_, "alive");
  const auto a = Pattern(64, 5);
  const auto alive_locs = alive.Write(std::vector<Piece>{{a.data(), 64}});
  std::filesystem::create_directories(root_ + "/n");
  Touch(root_ + "/n/.lock", "");
  Touch(root_ + "/n/spill-0.bin");
  Touch(root_ + "/n/spill-7.bin");
  std::filesystem::create_directories(root_ + "/dead");  // a crashed node: lock nobody holds
  Touch(root_ + "/dead/.lock", "");
  Touch(root_ + "/dead/spill-3.bin");
  std::filesystem::create_directories(root_ + "/nolock");  // not ours: never touched
  Touch(root_ + "/nolock/spill-1.bin");
  Touch(root_ + "/notes.txt");
  std::filesystem::create_directories(root_ + "/held");  // a live node elsewhere holds its lock
  Touch(root_ + "/held/.lock", "");
  Touch(root_ + "/held/data");
  const int held_fd = open((root_ + "/held/.lock").c_str(), O_RDWR);
  ASSERT_GE(held_fd, 0);
  ASSERT_EQ(flock(held_fd, LOCK_EX | LOCK_NB), 0);

  SpillDirectory dir(root_, "n");
  EXPECT_EQ(List(root_ + "/n"), std::set<std::string>{".lock"});
  EXPECT_FALSE(Exists(root_ + "/dead"));
  EXPECT_EQ(List(root_ + "/nolock"), std::set<std::string>{"spill-1.bin"});
  EXPECT_TRUE(Exists(root_ + "/notes.txt"));
  EXPECT_EQ(List(root_ + "/alive"), (std::set<std::string>{".lock", "spill-0.bin"}));
  EXPECT_EQ(ReadAll(alive_locs[0]), a);
  EXPECT_EQ(List(root_ + "/held"), (std::set<std::string>{".lock", "data"}));
  close(held_fd);
  // A new file in the cleaned directory gets the name a stale file had.
  EXPECT_EQ(dir.Write(std::vector<Piece>{{a.data(), 64}})[0].file->path(),
            root_ + "/n/spill-0.bin");
}

TEST_F(SpillDirectoryTest, DestructorRemovesTheDirectoryButLiveLocationsStillRead) {
  auto dir = std::make_unique<SpillDirectory>(root_, "n");
  const auto a = Pattern(2048, 9), b = Pattern(100, 4);
  SpillLocation kept = dir->Write(std::vector<Piece>{{a.data(), 2048}})[0];
  { const auto dropped = dir->Write(std::vector<Piece>{{b.data(), 100}}); }
  const std::string old_path = kept.file->path();
  dir.reset();
  EXPECT_FALSE(Exists(root_ + "/n"));
  EXPECT_TRUE(Exists(root_)) << "the root is shared, never removed";
  EXPECT_EQ(ReadAll(kept), a);
  std::vector<char> sub(48);
  kept.Read(2000, 48, sub.data());
  EXPECT_EQ(sub, std::vector<char>(a.begin() + 2000, a.end()));

  // A new owner of the same name writes a file at the old path; the old location dying must not
  // delete it.
  SpillDirectory again(root_, "n");
  const SpillLocation fresh = again.Write(std::vector<Piece>{{b.data(), 100}})[0];
  ASSERT_EQ(fresh.file->path(), old_path);
  kept = SpillLocation{};
  EXPECT_TRUE(Exists(old_path));
  EXPECT_EQ(ReadAll(fresh), b);
}

TEST_F(SpillDirectoryTest, ReadsOutsideALocationThrow) {
  SpillDirectory dir(root_, "n");
  const auto a = Pattern(100, 1), b = Pattern(50, 2);
  const auto locs = dir.Write(std::vector<Piece>{{a.data(), 100}, {b.data(), 50}});
  char buf[200];
  EXPECT_THROW(locs[0].Read(90, 11, buf), ValueError) << "would run into the next piece";
  EXPECT_THROW(locs[1].Read(0, 51, buf), ValueError) << "past the end of the file";
  EXPECT_THROW(locs[1].Read(-1, 2, buf), ValueError);
  EXPECT_THROW(locs[1].Read(51, 0, buf), ValueError);
  EXPECT_THROW(locs[0].file->Read(149, 2, buf), IOError);
  const int64_t read_before = dir.bytes_read();
  locs[1].Read(49, 1, buf);
  EXPECT_EQ(buf[0], b[49]);
  EXPECT_EQ(dir.bytes_read(), read_before + 1);
}

TEST_F(SpillDirectoryTest, ConcurrentWritersGetTheirOwnFiles) {
  SpillDirectory dir(root_, "n");
  constexpr int kThreads = 8, kWrites = 20;
  std::vector<std::vector<SpillLocation>> locs(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kWrites; ++i) {
        const auto v = Pattern(1000 + t, t * 100 + i);
        locs[t].push_back(dir.Write(std::vector<Piece>{{v.data(), 1000 + t}})[0]);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(dir.files(), kThreads * kWrites);
  int64_t total = 0;
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kWrites; ++i) {
      EXPECT_EQ(ReadAll(locs[t][i]), Pattern(1000 + t, t * 100 + i));
      total += 1000 + t;
    }
  }
  EXPECT_EQ(dir.bytes_on_disk(), total);
  EXPECT_EQ(List(dir.path()).size(), static_cast<size_t>(kThreads * kWrites + 1));
}

TEST_F(SpillDirectoryTest, DiskFullLeavesNoPartialFileAndKeepsEarlierObjects) {
  if (geteuid() != 0) GTEST_SKIP() << "mounting a 4 MiB tmpfs to fill needs root";
  const std::string mnt = tmp_ + "/mnt";
  ASSERT_EQ(mkdir(mnt.c_str(), 0700), 0);
  if (mount("tmpfs", mnt.c_str(), "tmpfs", 0, "size=4m,mode=0700") != 0) {
    GTEST_SKIP() << "cannot mount a tmpfs on " << mnt << ": " << std::strerror(errno);
  }
  struct Unmount {
    std::string dir;
    ~Unmount() { EXPECT_EQ(umount2(dir.c_str(), MNT_DETACH), 0) << std::strerror(errno); }
  } unmount{mnt};

  SpillDirectory dir(mnt, "n");
  std::vector<SpillLocation> locs;
  std::vector<std::vector<char>> data;
  int64_t written = 0;
  std::optional<std::string> error;
  // 64 KiB first, so that a 1 MiB write runs out of space halfway and leaves a partial file.
  for (int i = 0; i < 16 && !error; ++i) {
    data.push_back(Pattern(i == 0 ? 64 << 10 : 1 << 20, i));
    try {
      locs.push_back(
          dir.Write(std::vector<Piece>{{data.back().data(), int64_t(data.back().size())}})[0]);
      written += static_cast<int64_t>(data.back().size());
    } catch (const IOError& e) {
      error = e.what();
      data.pop_back();
    }
  }
  ASSERT_TRUE(error.has_value()) << "16 MiB fit into a 4 MiB tmpfs";
  EXPECT_NE(error->find("No space left"), std::string::npos) << *error;
  EXPECT_NE(error->find(dir.path()), std::string::npos) << *error;
  EXPECT_NE(error->find(std::to_string(1 << 20) + " bytes"), std::string::npos) << *error;
  EXPECT_EQ(locs.size(), 4u) << "64 KiB + 3 MiB fit, the 4th MiB does not";
  EXPECT_EQ(dir.bytes_on_disk(), written);
  EXPECT_EQ(dir.bytes_written(), written);
  EXPECT_EQ(dir.files(), static_cast<int64_t>(locs.size()));
  EXPECT_EQ(List(dir.path()).size(), locs.size() + 1) << "no partial file besides .lock";
  for (size_t i = 0; i < locs.size(); ++i) EXPECT_EQ(ReadAll(locs[i]), data[i]) << i;
  // The partial file's space was given back: 900 KiB fit into the 960 KiB left.
  const auto small = Pattern(900 << 10, 77);
  const auto fits = dir.Write(std::vector<Piece>{{small.data(), int64_t(small.size())}});
  EXPECT_EQ(ReadAll(fits[0]), small);
  // Freeing earlier objects makes room for a whole MiB again.
  locs.erase(locs.begin() + 1, locs.begin() + 3);
  const auto big = Pattern(1 << 20, 78);
  const auto after = dir.Write(std::vector<Piece>{{big.data(), 1 << 20}});
  EXPECT_EQ(ReadAll(after[0]), big);
  EXPECT_EQ(ReadAll(locs[1]), data[3]);
}

}  // namespace
}  // namespace nums::engine
