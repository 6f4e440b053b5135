"""What goes over HTTP: pydantic v2 models, read from the ORM objects with ``from_attributes``."""

from pydantic import BaseModel, ConfigDict, Field


class AuthorCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200)


class AuthorRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str


class BookCreate(BaseModel):
    title: str = Field(min_length=1, max_length=300)
    author_id: int
    price_cents: int = Field(ge=0)
    stock: int = Field(default=0, ge=0)


class BookRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    title: str
    author_id: int
    price_cents: int
    stock: int


class OrderCreate(BaseModel):
    book_id: int
    quantity: int = Field(ge=1)


class OrderRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    book_id: int
    quantity: int
    total_cents: int
