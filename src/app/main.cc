#include "app/app.h"
#include "core/clock.h"

// The one place that picks the real clock: everything below gets it from here.
int main(int argc, char** argv) {
  return tether::app::runCli(argc, argv, tether::core::systemClock());
}
