/* Moves the test process into a network namespace of its own, with only
 * loopback, up: tests that bind fixed port ranges (RTP pairs are bound from
 * a range, not port 0) and assert which ports are free cannot collide with
 * anything else on the machine there. As root a plain network namespace;
 * otherwise a user namespace too, mapping us to root inside it so that lo
 * can be brought up. */
#ifndef LUASIP_TEST_NETNS_H
#define LUASIP_TEST_NETNS_H

/* unshare and CLONE_NEWNET need _GNU_SOURCE before the first include */

#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

static bool netns_write(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY);
	if (fd < 0)
		return false;
	bool ok = write(fd, text, strlen(text)) == (ssize_t)strlen(text);
	close(fd);
	return ok;
}

/* 0, or -1 with a message on stderr. */
static int netns_enter(void)
{
	uid_t uid = getuid();
	gid_t gid = getgid();
	if (unshare(CLONE_NEWNET) != 0) {
		char map[64];
		if (unshare(CLONE_NEWUSER | CLONE_NEWNET) != 0) {
			perror("netns: unshare");
			return -1;
		}
		snprintf(map, sizeof(map), "0 %u 1\n", (unsigned)uid);
		bool ok = netns_write("/proc/self/uid_map", map);
		netns_write("/proc/self/setgroups", "deny\n");
		snprintf(map, sizeof(map), "0 %u 1\n", (unsigned)gid);
		ok = ok && netns_write("/proc/self/gid_map", map);
		if (!ok) {
			fprintf(stderr, "netns: cannot map our ids into the user namespace\n");
			return -1;
		}
	}
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct ifreq ifr = { 0 };
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	int rc = fd < 0 ? -1 : ioctl(fd, SIOCGIFFLAGS, &ifr);
	if (rc == 0) {
		ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
		rc = ioctl(fd, SIOCSIFFLAGS, &ifr);
	}
	if (fd >= 0)
		close(fd);
	if (rc != 0)
		perror("netns: bringing lo up");
	return rc == 0 ? 0 : -1;
}

#endif
