#include <catch2/catch.hpp>

#include "core/error.hpp"
#include "core/job.hpp"
#include "core/secret_mask.hpp"

using namespace orbitmesh::core;

TEST_CASE("secret mask: every occurrence of every value becomes ***") {
    secret_mask m({"hunter2", "s3cr3t"});
    std::string text = "pw=hunter2 again hunter2hunter2 and s3cr3t.";
    CHECK(m.apply(text));
    CHECK(text == "pw=*** again ****** and ***.");
    std::string clean = "nothing here";
    CHECK_FALSE(m.apply(clean));
    CHECK(clean == "nothing here");
}

TEST_CASE("secret mask: a value containing another is masked whole, not in pieces") {
    secret_mask m({"abc", "xxabcxx"});
    std::string text = "[xxabcxx] [abc]";
    m.apply(text);
    CHECK(text == "[***] [***]");
}

TEST_CASE("secret mask: a multi-line value is masked whole and line by line") {
    secret_mask m({"-----BEGIN KEY-----\nAAAABBBB\n-----END KEY-----\n"});
    std::string whole = "key: -----BEGIN KEY-----\nAAAABBBB\n-----END KEY-----";
    m.apply(whole);
    CHECK(whole == "key: ***");
    std::string line = "line 2 is AAAABBBB";
    m.apply(line);
    CHECK(line == "line 2 is ***");
}

TEST_CASE("secret mask: JSON values are masked in strings and keys, recursively") {
    secret_mask m({"tok123"});
    json v = {{"out", "the tok123"}, {"list", {"a", "tok123", 5}}, {"tok123", {{"deep", "xtok123x"}}}};
    m.apply(v);
    CHECK(v == json{{"out", "the ***"}, {"list", {"a", "***", 5}}, {"***", {{"deep", "x***x"}}}});
    json n = 42;
    m.apply(n);
    CHECK(n == 42);
}

TEST_CASE("secret mask: empty values mask nothing; a mask of no values is empty") {
    secret_mask none;
    CHECK(none.empty());
    secret_mask blank({"", "\n"});
    CHECK(blank.empty());
    std::string text = "unchanged";
    CHECK_FALSE(blank.apply(text));
}

TEST_CASE("secret names are environment variable names") {
    CHECK(is_secret_name("DB_PASSWORD"));
    CHECK(is_secret_name("_x9"));
    CHECK_FALSE(is_secret_name(""));
    CHECK_FALSE(is_secret_name("9LIVES"));
    CHECK_FALSE(is_secret_name("has-dash"));
    CHECK_FALSE(is_secret_name("../etc/passwd"));
    CHECK_FALSE(is_secret_name(std::string(129, 'A')));
}

TEST_CASE("job spec: secrets are names, read from JSON and validated") {
    auto spec = job_spec_from_json(json{{"command", "shell"}, {"payload", "env"}, {"secrets", {"A", "B_2"}}});
    CHECK(spec.secrets == std::vector<std::string>{"A", "B_2"});
    CHECK(to_json(spec)["secrets"] == json{"A", "B_2"});
    CHECK_FALSE(to_json(job_spec_from_json(json{{"command", "echo"}})).contains("secrets"));
    CHECK_THROWS_WITH(job_spec_from_json(json{{"command", "shell"}, {"secrets", {"a/b"}}}),
                      Catch::Contains("secret name \"a/b\" is not usable"));
    CHECK_THROWS_WITH(job_spec_from_json(json{{"command", "shell"}, {"secrets", "A"}}), Catch::Contains("secrets"));
}
