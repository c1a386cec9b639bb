/* nexthop.c: being written */
