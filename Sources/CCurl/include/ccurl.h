#ifndef CCURL_H
#define CCURL_H

#include <curl/curl.h>

// curl_global_init's flags are a macro expression Swift does not import.
CURLcode ccurl_global_init(void);

// curl_easy_setopt is variadic, which Swift cannot call: one typed
// wrapper per argument kind the CLI uses.
CURLcode ccurl_setopt_long(CURL *handle, CURLoption option, long value);
CURLcode ccurl_setopt_string(CURL *handle, CURLoption option, const char *value);
CURLcode ccurl_setopt_pointer(CURL *handle, CURLoption option, void *value);
CURLcode ccurl_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *value);

typedef size_t (*ccurl_data_callback)(char *data, size_t size, size_t count, void *context);
CURLcode ccurl_setopt_write_function(CURL *handle, ccurl_data_callback callback);
CURLcode ccurl_setopt_header_function(CURL *handle, ccurl_data_callback callback);

#endif
