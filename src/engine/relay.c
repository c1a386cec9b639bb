/* relay.c: being written */
