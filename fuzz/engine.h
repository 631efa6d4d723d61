/* The bounce engine shared by the harnesses that parse messages: one for the whole run, as
 * bounce-extract builds one per run.  It holds the compiled marker tables; building it per
 * input would measure start-up, not parsing. */
#ifndef FUZZ_ENGINE_H
#define FUZZ_ENGINE_H

#include "bounce.h"

static struct bounce_engine *
engine(void)
{
	static struct bounce_engine *e;

	if (e == NULL)
		e = bounce_engine_new();
	return e;
}

#endif
