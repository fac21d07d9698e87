# Writes OUT: a C++ file defining tessera::catalog::embedded_migrations() from the numbered .sql FILES.
string(REPLACE "|" ";" FILES "${FILES}")
list(SORT FILES)
set(body "")
foreach(f ${FILES})
  get_filename_component(name ${f} NAME)
  file(READ ${f} sql)
  string(APPEND body "    {\"${name}\", R\"tessera_sql(${sql})tessera_sql\"},\n")
endforeach()
file(WRITE ${OUT}.tmp "// Generated from src/catalog/migrations/*.sql by cmake/embed_migrations.cmake.
#include \"catalog/migrations.hpp\"

namespace tessera::catalog {

const std::vector<EmbeddedMigration>& embedded_migrations() {
  static const std::vector<EmbeddedMigration> migrations = {
${body}  };
  return migrations;
}

}  // namespace tessera::catalog
")
file(COPY_FILE ${OUT}.tmp ${OUT} ONLY_IF_DIFFERENT)
