/* prog spends its CPU in c_leaf, called through c_middle, for the
   profiler's tests. Built with -fno-omit-frame-pointer -O0. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

volatile unsigned long sink;

void c_leaf(long n) {
	unsigned long x = 1;
	for (long i = 0; i < n; i++) x = x * 2862933555777941757UL + 3037000493UL;
	sink += x;
}

void c_middle(long n) { c_leaf(n); }

int main(int argc, char **argv) {
	double secs = argc > 1 ? atof(argv[1]) : 3;
	struct timespec t0, t;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	puts("ready");
	fflush(stdout);
	do {
		c_middle(1000000);
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while ((t.tv_sec - t0.tv_sec) + (t.tv_nsec - t0.tv_nsec) / 1e9 < secs);
	return 0;
}
