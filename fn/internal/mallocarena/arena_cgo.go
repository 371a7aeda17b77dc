//go:build cgo && linux

package mallocarena

/*
#include <stdlib.h>
#if defined(__GLIBC__)
#include <malloc.h>
__attribute__((constructor)) static void aggapi_one_malloc_arena(void) {
	mallopt(M_ARENA_MAX, 1);
}
#endif
*/
import "C"
