#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#include "affectmeta.h"
/* implementation in progress */
