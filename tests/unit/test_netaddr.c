#include "../../tests/unit/harness.h"
int main(void) { CHECK(0, "test_netaddr not written yet"); return harness_end("netaddr"); }
