//! Handles: plain JS objects whose methods and getters are closures over
//! Rust state. A napi class would fail, when constructed directly or when a
//! method is called on another `this`, inside napi-rs or V8 with an error
//! that has no `code`; a closure does not depend on `this`, there is nothing
//! to construct, and every failure is a coded error.

use std::panic::{catch_unwind, AssertUnwindSafe};

use napi::bindgen_prelude::*;
use napi::{sys, Env, Property};

use crate::error::{panic_error, BridgeError, BridgeResult};
use crate::promise;

/// A JS value produced inside a closure (a Promise, an object), passed through.
#[cfg_attr(not(feature = "bench"), allow(dead_code))] // the bench harness returns Promises
pub struct Raw(pub sys::napi_value);

impl ToNapiValue for Raw {
    unsafe fn to_napi_value(_env: sys::napi_env, value: Self) -> napi::Result<sys::napi_value> {
        Ok(value.0)
    }
}

/// The arguments of a handle's method call, converted on demand.
#[cfg_attr(not(feature = "bench"), allow(dead_code))] // read by the bench harness's methods
pub struct Args<'a> {
    values: Vec<Unknown<'a>>,
    env: &'a Env,
}

#[cfg_attr(not(feature = "bench"), allow(dead_code))]
impl<'a> Args<'a> {
    /// Argument `index` (undefined when absent), for `api::arg`.
    pub fn get(&self, index: usize) -> BridgeResult<Unknown<'a>> {
        match self.values.get(index) {
            Some(value) => Ok(*value),
            None => {
                let undefined = unsafe { Unknown::from_napi_value(self.env.raw(), Undefined::to_napi_value(self.env.raw(), ()).map_err(internal)?) };
                undefined.map_err(internal)
            }
        }
    }

    pub fn env(&self) -> &'a Env {
        self.env
    }
}

fn internal(e: napi::Error) -> BridgeError {
    BridgeError::internal(format!("could not read a call's arguments: {}", e.reason))
}

pub struct HandleBuilder<'env> {
    env: &'env Env,
    object: Object<'env>,
    properties: Vec<Property>,
}

impl<'env> HandleBuilder<'env> {
    pub fn new(env: &'env Env) -> BridgeResult<Self> {
        Ok(Self { env, object: Object::new(env).map_err(internal)?, properties: Vec::new() })
    }

    /// Adds method `name`; a returned error or a panic throws a coded error.
    pub fn method<R, F>(mut self, name: &str, f: F) -> BridgeResult<Self>
    where
        R: ToNapiValue,
        F: Fn(&Args<'_>) -> BridgeResult<R> + 'static,
    {
        let function = self
            .env
            .create_function_from_closure::<(), R, _>(name, move |ctx| {
                let env = ctx.env.clone();
                let outcome = catch_unwind(AssertUnwindSafe(|| {
                    let values = ctx.arguments::<Unknown>().map_err(internal)?;
                    f(&Args { values, env: &env })
                }))
                .unwrap_or_else(|p| Err(panic_error(p)));
                outcome.map_err(|e| promise::coded(&env, e))
            })
            .map_err(internal)?;
        self.object.set_named_property(name, function).map_err(internal)?;
        Ok(self)
    }

    /// Adds a read-only property computed by `f` on each read.
    pub fn getter<R, F>(mut self, name: &str, f: F) -> BridgeResult<Self>
    where
        R: ToNapiValue + 'static,
        F: Fn() -> R + 'static,
    {
        let property = Property::new()
            .with_utf8_name(name)
            .map_err(internal)?
            .with_getter_closure(move |_env, _this| Ok(f()));
        self.properties.push(property);
        Ok(self)
    }

    pub fn build(mut self) -> BridgeResult<Object<'env>> {
        self.object.define_properties(&self.properties).map_err(internal)?;
        Ok(self.object)
    }
}
