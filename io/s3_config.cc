#include "io/s3_config.h"

#include <cstdlib>
#include <fstream>
#include <map>
#include <optional>

#include "nums/errors.hpp"

namespace nums::io {
namespace {

using Section = std::map<std::string, std::string>;

std::optional<std::string> Env(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return std::nullopt;
  return std::string(v);
}

std::string Trim(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\r") - b + 1);
}

// The INI sections of an AWS shared file by name ("default", "profile x"); empty when missing.
// Indented lines belong to a nested block ("s3 =\n  endpoint_url = ...") we do not read.
std::map<std::string, Section> ReadIni(const std::string& path) {
  std::map<std::string, Section> sections;
  std::ifstream in(path);
  std::string line, current;
  bool have_section = false;
  while (std::getline(in, line)) {
    if (!line.empty() && (line[0] == ' ' || line[0] == '\t')) continue;
    const std::string t = Trim(line);
    if (t.empty() || t[0] == '#' || t[0] == ';') continue;
    if (t.front() == '[' && t.back() == ']') {
      current = Trim(t.substr(1, t.size() - 2));
      have_section = true;
      sections[current];
      continue;
    }
    const size_t eq = t.find('=');
    if (!have_section || eq == std::string::npos) continue;
    sections[current][Trim(t.substr(0, eq))] = Trim(t.substr(eq + 1));
  }
  return sections;
}

std::string HomeFile(const char* env, const char* name) {
  if (auto v = Env(env)) return *v;
  const char* home = std::getenv("HOME");
  return std::string(home ? home : "") + "/.aws/" + name;
}

std::optional<std::string> Get(const Section* s, const char* key) {
  if (s == nullptr) return std::nullopt;
  auto it = s->find(key);
  if (it == s->end() || it->second.empty()) return std::nullopt;
  return it->second;
}

}  // namespace

S3Config LoadS3Config() {
  S3Config c;
  const std::optional<std::string> named_profile = Env("AWS_PROFILE");
  const std::string profile = named_profile.value_or("default");
  const std::string credentials_path = HomeFile("AWS_SHARED_CREDENTIALS_FILE", "credentials");
  const std::string config_path = HomeFile("AWS_CONFIG_FILE", "config");
  const auto credentials_file = ReadIni(credentials_path);
  const auto config_file = ReadIni(config_path);
  const Section* cred = nullptr;
  if (auto it = credentials_file.find(profile); it != credentials_file.end()) cred = &it->second;
  const Section* conf = nullptr;
  const std::string config_name = profile == "default" ? "default" : "profile " + profile;
  if (auto it = config_file.find(config_name); it != config_file.end()) conf = &it->second;
  if (named_profile && cred == nullptr && conf == nullptr) {
    throw ValueError("AWS_PROFILE names profile '" + profile + "', which is in neither '" +
                     credentials_path + "' nor '" + config_path + "'");
  }

  auto key = Env("AWS_ACCESS_KEY_ID");
  auto secret = Env("AWS_SECRET_ACCESS_KEY");
  if (key && secret) {
    c.access_key = *key;
    c.secret_key = *secret;
    c.session_token = Env("AWS_SESSION_TOKEN").value_or("");
  } else {
    for (const Section* s : {cred, conf}) {
      auto k = Get(s, "aws_access_key_id");
      auto v = Get(s, "aws_secret_access_key");
      if (k && v) {
        c.access_key = *k;
        c.secret_key = *v;
        c.session_token = Get(s, "aws_session_token").value_or("");
        break;
      }
    }
  }

  if (auto r = Env("AWS_REGION")) {
    c.region = *r;
  } else if (auto r2 = Env("AWS_DEFAULT_REGION")) {
    c.region = *r2;
  } else if (auto r3 = Get(conf, "region")) {
    c.region = *r3;
  }

  std::string endpoint_source = "AWS_ENDPOINT_URL_S3";
  std::optional<std::string> endpoint = Env("AWS_ENDPOINT_URL_S3");
  if (!endpoint) {
    endpoint_source = "AWS_ENDPOINT_URL";
    endpoint = Env("AWS_ENDPOINT_URL");
  }
  if (!endpoint) {
    endpoint_source = "endpoint_url of '" + config_path + "'";
    endpoint = Get(conf, "endpoint_url");
  }
  if (endpoint) {
    std::string e = *endpoint;
    while (!e.empty() && e.back() == '/') e.pop_back();
    if (e.rfind("http://", 0) != 0 && e.rfind("https://", 0) != 0) {
      throw ValueError(endpoint_source + " must start with http:// or https://, not '" + *endpoint +
                       "'");
    }
    c.endpoint = e;
  }

  std::string attempts_source = "AWS_MAX_ATTEMPTS";
  std::optional<std::string> attempts = Env("AWS_MAX_ATTEMPTS");
  if (!attempts) {
    attempts_source = "max_attempts of '" + config_path + "'";
    attempts = Get(conf, "max_attempts");
  }
  if (attempts) {
    char* end = nullptr;
    const long long n = std::strtoll(attempts->c_str(), &end, 10);
    if (end == attempts->c_str() || *end != '\0' || n < 1 || n > 100) {
      throw ValueError(attempts_source + " must be an integer from 1 to 100, not '" + *attempts +
                       "'");
    }
    c.max_attempts = n;
  }
  return c;
}

}  // namespace nums::io
