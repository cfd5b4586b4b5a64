// The reading side of the digest folder tb/raw/digest.py writes (page_map.hex, mem.bin,
// program.txt; format in digest.py and tb/memory_files.py), shared by both players of it: our raw
// harness (tb/raw/main.cpp) and our player for NVDLA's RTL (tb/nvdla/player.cpp). Each player keeps
// its own engine (our tb_top's APB master and SV memory, NVDLA's CSB and AXI ports); what a line
// means and how an image or a CRC check is read is written once, here.
#pragma once

#include <zlib.h>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace digest {

constexpr uint32_t kPageBits = 16;  // tb/memory_files.py: 64 KiB pages, 8-byte words
constexpr uint32_t kWordsPerPage = (1u << kPageBits) / 8;
constexpr int kPollLimit = 1000;  // tb/uvm/sequences.py POLL_LIMIT

inline std::string hex(uint64_t v) {
  char b[24];
  std::snprintf(b, sizeof b, "%#llx", static_cast<unsigned long long>(v));
  return b;
}

// A trace's memory image: the mapped pages in their physical order (pages[i] maps logical page
// pages[i].first to physical page pages[i].second), words[physical page * kWordsPerPage + word].
struct Image {
  std::vector<std::pair<uint64_t, uint32_t>> pages;
  std::vector<uint64_t> words;
};

// page_map.hex ("@<logical page>" then one physical page a line) and mem.bin (each word
// big-endian); false when either is unreadable or they disagree on the number of pages.
inline bool load_image(const std::string& dir, Image& img) {
  img.pages.clear();
  img.words.clear();
  std::ifstream pm(dir + "/page_map.hex");
  std::string tok;
  uint64_t page = 0;
  while (pm >> tok) {
    if (tok[0] == '@') page = std::stoull(tok.substr(1), nullptr, 16);
    else img.pages.emplace_back(page++, static_cast<uint32_t>(std::stoul(tok, nullptr, 16)));
  }
  std::ifstream bin(dir + "/mem.bin", std::ios::binary);
  if (!pm.eof() || !bin) return false;
  std::vector<unsigned char> b(img.pages.size() * kWordsPerPage * 8);
  if (!bin.read(reinterpret_cast<char*>(b.data()), static_cast<std::streamsize>(b.size()))) return false;
  img.words.resize(img.pages.size() * kWordsPerPage);
  for (size_t w = 0; w < img.words.size(); ++w) {
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v = (v << 8) | b[8 * w + i];
    img.words[w] = v;
  }
  return true;
}

// One line of program.txt (numbers in hex).
struct Command {
  std::string op;  // load, w, r, p, i, c; empty for a blank line
  uint32_t addr = 0, value = 0;  // w, r, p: register address and value written or expected
  uint32_t bit = 0, status = 0, mask = 0;  // i: GLB status bit to claim (0: lowest pending), registers
  uint32_t expected = 0, skip = 0, size = 0;  // c: CRC-32 of size bytes from byte skip of the ranges
  std::vector<std::pair<uint32_t, uint32_t>> ranges;  // c: (first word, words) of the image, in order
};

inline Command parse(const std::string& line) {
  Command c;
  std::istringstream in(line);
  in >> c.op >> std::hex;
  if (c.op == "w" || c.op == "r" || c.op == "p") {
    in >> c.addr >> c.value;
  } else if (c.op == "i") {
    in >> c.bit >> c.status >> c.mask;
  } else if (c.op == "c") {
    in >> c.expected >> c.skip >> c.size;
    uint32_t first, words;
    while (in >> first >> words) c.ranges.emplace_back(first, words);
  }
  return c;
}

// A `c` command on physical words[0, n): "" when the CRC matches, else why not.
inline std::string check_crc(const Command& c, const uint64_t* words, size_t n) {
  std::string bytes;
  for (auto [first, count] : c.ranges) {
    if (static_cast<size_t>(first) + count > n) return "check_crc range outside the memory image";
    for (uint32_t k = 0; k < count; ++k)
      for (int b = 0; b < 8; ++b) bytes.push_back(static_cast<char>(words[first + k] >> 8 * b));
  }
  if (bytes.size() < static_cast<size_t>(c.skip) + c.size) return "memory dump smaller than the checked range";
  uint32_t got = crc32(0, reinterpret_cast<const Bytef*>(bytes.data()) + c.skip, c.size);
  return got == c.expected ? "" : "CRC " + hex(got) + ", expected " + hex(c.expected);
}

}  // namespace digest
