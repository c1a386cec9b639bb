/* netaddr.c: being written */
