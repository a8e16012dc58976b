// Where secret values come from on the hub: --secrets-dir files first, then the environment.
#include <stdlib.h>

#include <catch2/catch.hpp>

#include "agent_test_support.hpp"
#include "core/error.hpp"
#include "engine/hub/secret_store.hpp"

using orbitmesh::engine::secret_store;
using agent_test::temp_dir;
using agent_test::write_file;

TEST_CASE("secret store: a file in the secrets dir wins over the environment, one newline dropped") {
    temp_dir dir;
    write_file(dir.path / "OM_TEST_SECRET", "from-file\n");
    ::setenv("OM_TEST_SECRET", "from-env", 1);
    ::setenv("OM_TEST_ONLY_ENV", "env-only", 1);
    secret_store store(dir.path);
    CHECK(store.value("OM_TEST_SECRET") == "from-file");
    CHECK(store.value("OM_TEST_ONLY_ENV") == "env-only");
    CHECK_FALSE(store.value("OM_TEST_NOWHERE").has_value());
    CHECK(secret_store().value("OM_TEST_SECRET") == "from-env");
    write_file(dir.path / "TWO_LINES", "a\nb\n\n");
    CHECK(store.value("TWO_LINES") == "a\nb\n");
    ::unsetenv("OM_TEST_SECRET");
    ::unsetenv("OM_TEST_ONLY_ENV");
}

TEST_CASE("secret store: a missing secret names where it was looked for; a huge file is refused") {
    temp_dir dir;
    secret_store store(dir.path);
    CHECK_THROWS_WITH(store.resolve({"OM_TEST_MISSING"}),
                      Catch::Contains("secret \"OM_TEST_MISSING\" is not defined on the hub") &&
                          Catch::Contains((dir.path / "OM_TEST_MISSING").string()));
    CHECK_THROWS_WITH(secret_store().resolve({"OM_TEST_MISSING"}), Catch::Contains("--secrets-dir"));
    write_file(dir.path / "BIG", std::string(70 * 1024, 'x'));
    CHECK_THROWS_WITH(store.value("BIG"), Catch::Contains("larger than 64 KiB"));
    write_file(dir.path / "OK", "v");
    CHECK(store.resolve({"OK"}) == std::map<std::string, std::string>{{"OK", "v"}});
}
