/* prog runs its work in threads that live about 20 ms each, one after
   another, so only a profiler that follows threads from birth sees it. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

volatile unsigned long sink;

static double now(void) {
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

void short_work(void) {
	unsigned long x = 1;
	double end = now() + 0.02;
	while (now() < end)
		for (int i = 0; i < 10000; i++) x = x * 2862933555777941757UL + 3037000493UL;
	sink += x;
}

void *run(void *arg) {
	short_work();
	return arg;
}

int main(int argc, char **argv) {
	double secs = argc > 1 ? atof(argv[1]) : 1;
	double end = now() + secs;
	while (now() < end) {
		pthread_t t;
		pthread_create(&t, NULL, run, NULL);
		pthread_join(t, NULL);
	}
	return 0;
}
