#include "../../tests/unit/harness.h"
int main(void) { CHECK(0, "test_smtp_cmd not written yet"); return harness_end("smtp_cmd"); }
