/* prog prints ready, sleeps, and only then starts two threads that spin in
   t_leaf, so a profiler attached at "ready" must follow new threads. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

volatile unsigned long sink;

void t_leaf(void) {
	unsigned long x = 1;
	for (long i = 0; i < 100000000L; i++) x = x * 2862933555777941757UL + 3037000493UL;
	sink += x;
}

void *spin(void *arg) {
	for (;;) t_leaf();
	return arg;
}

int main(int argc, char **argv) {
	int secs = argc > 1 ? atoi(argv[1]) : 3;
	puts("ready");
	fflush(stdout);
	usleep(300000);
	pthread_t a, b;
	pthread_create(&a, NULL, spin, NULL);
	pthread_create(&b, NULL, spin, NULL);
	sleep(secs);
	return 0;
}
