/* CPKCS11 holds declarations only (include/cpkcs11.h); SwiftPM wants one source file in a C target. */
#include "cpkcs11.h"

#include <stddef.h>

/* The specification lists 68 functions after the version: the last one must sit 67 pointers after the first. */
_Static_assert(offsetof(CK_FUNCTION_LIST, unused_C_WaitForSlotEvent) - offsetof(CK_FUNCTION_LIST, C_Initialize) == 67 * sizeof(void *),
               "CK_FUNCTION_LIST must list the 68 functions of PKCS #11 v2.40");
