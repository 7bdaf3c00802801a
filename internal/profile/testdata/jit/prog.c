/* prog "JIT-compiles" a counting loop into anonymous executable memory,
   names it in /tmp/perf-PID.map as a JIT runtime would, and spins in it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
	double secs = argc > 1 ? atof(argv[1]) : 3;
	/* mov rcx, rdi; loop: dec rcx; jnz loop; ret */
	unsigned char code[] = {0x48, 0x89, 0xf9, 0x48, 0xff, 0xc9, 0x75, 0xfb, 0xc3};
	unsigned char *mem = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED) { perror("mmap"); return 1; }
	memcpy(mem, code, sizeof code);
	char path[64];
	snprintf(path, sizeof path, "/tmp/perf-%d.map", getpid());
	FILE *f = fopen(path, "w");
	if (!f) { perror(path); return 1; }
	fprintf(f, "%lx %zx jit_hot_loop\n", (unsigned long)mem, sizeof code);
	fclose(f);
	void (*fn)(long) = (void (*)(long))mem;
	struct timespec t0, t;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	puts("ready");
	fflush(stdout);
	do {
		fn(10000000);
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while ((t.tv_sec - t0.tv_sec) + (t.tv_nsec - t0.tv_nsec) / 1e9 < secs);
	unlink(path);
	return 0;
}
