#include "app/app.h"

int main(int argc, char** argv) { return tether::app::runCli(argc, argv); }
