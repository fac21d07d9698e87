#include "tessera/pipeline/writer.hpp"

namespace tessera::pipeline {

WriterKind csv_writer_kind();      // csv_writer.cpp
WriterKind images_writer_kind();   // images_writer.cpp
WriterKind ecotaxa_writer_kind();  // ecotaxa_writer.cpp

std::vector<WriterKind> file_writers() { return {csv_writer_kind(), images_writer_kind(), ecotaxa_writer_kind()}; }

}  // namespace tessera::pipeline
