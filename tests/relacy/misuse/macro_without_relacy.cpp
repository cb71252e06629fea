// Compiled with ASYMFENCE_RELACY=1 but without relacy: must stop with a message.
#include <asymfence/asymfence.hpp>
